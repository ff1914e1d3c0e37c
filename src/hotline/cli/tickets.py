"""``hotline tickets import FILE --by USERNAME [--dry-run] [--json]``: register the requests of a CSV
or XLSX file (:mod:`hotline.importing.tickets`), all or nothing. ``hotline tickets export FILE --by
USERNAME [filters]``: the ticket list's Excel export (:mod:`hotline.tickets.export`) into a file, in
the account's scope, for searches too large to wait for in a browser.

Registered on the main ``hotline`` group by ``cli/main.py``. A file with refused rows prints every
row number and reason, keeps nothing and exits with status 1; an unreadable file, a missing column
or an unknown user ends with ``错误：…`` and exit status 2, as everywhere in the command line.
"""

from __future__ import annotations

import errno
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from hotline.cli.incidents import active_user
from hotline.kit.errors import Invalid


@click.group()
def tickets() -> None:
    """Tickets in bulk: import requests from a spreadsheet, export a search to one."""


@tickets.command("import")
@click.argument("file", type=click.Path(path_type=Path, allow_dash=True))
@click.option("--by", "username", required=True, help="The staff account the tickets are registered by.")
@click.option("--dry-run", is_flag=True, help="Check every row and keep nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: rows, numbers, problems.")
@click.pass_obj
def import_tickets(env: Any, file: Path, username: str, dry_run: bool, as_json: bool) -> None:
    """Register every row of FILE (CSV in UTF-8, or XLSX): columns 诉求内容, 发生地, 事项分类 and,
    optionally, 诉求类型, 紧急程度, 渠道, 受理时间, 标题, 详细地址, 来电人, 联系电话."""
    from hotline.importing.tickets import import_file

    with env.db.transaction() as session:
        result = import_file(session, file, actor=active_user(session, username), dry_run=dry_run)
        if not result.ok or dry_run:
            session.rollback()
    out = {"rows": result.rows, "imported": 0 if (dry_run or not result.ok) else len(result.numbers),
           "numbers": result.numbers if result.ok and not dry_run else [], "dry_run": dry_run,
           "problems": [{"row": p.row, "message": p.message} for p in result.problems]}
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
    elif result.problems:
        for p in result.problems:
            click.echo(f"第 {p.row} 行：{p.message}")
        click.echo(f"{len(result.problems)} 行有问题，{result.rows} 行均未导入：改正后重新导入整个文件")
    elif dry_run:
        click.echo(f"检查通过：{result.rows} 行均可导入（--dry-run，未导入）")
    else:
        click.echo(f"已导入 {len(result.numbers)} 件工单：{result.numbers[0]} … {result.numbers[-1]}")
    if result.problems:
        raise SystemExit(1)


def _day(value: datetime | None) -> datetime | None:
    """A date typed on the command line (local midnight) as an aware time."""
    from hotline.kit import clock

    return value.replace(tzinfo=clock.tz()) if value else None


def _why(exc: OSError) -> str:
    """Why a file could not be written, in words (the operating system's are English)."""
    if isinstance(exc, FileNotFoundError):
        return "目录不存在"
    if isinstance(exc, PermissionError):
        return "没有写入权限"
    return "磁盘空间不足" if exc.errno == errno.ENOSPC else f"写入失败（系统错误 {exc.errno}）"


@tickets.command("export")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, writable=True))
@click.option("--by", "username", required=True, help="The staff account whose data scope applies.")
@click.option("--q", "q", default="", help="Words that must all appear (number, title, content, address).")
@click.option("--status", "status", multiple=True, help="Status code (registered, closed, ...); repeatable.")
@click.option("--overdue", is_flag=True, help="Only overdue tickets.")
@click.option("--region", "region_code", default=None, help="Region code: the place and everything inside it.")
@click.option("--from", "received_from", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Received on or after this day (YYYY-MM-DD, local).")
@click.option("--to", "received_to", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Received before this day (YYYY-MM-DD, local).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many, the newest.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: file, written, total, left_out.")
@click.pass_obj
def export_tickets(env: Any, file: Path, username: str, q: str, status: tuple[str, ...], overdue: bool,
                   region_code: str | None, received_from: datetime | None, received_to: datetime | None,
                   limit: int | None, as_json: bool) -> None:
    """Write the tickets of a search into FILE (must end in .xlsx), newest first, as 导出 Excel on the ticket list
    does: the account's scope, confidential callers masked for units, and sheet 说明 with the filters."""
    from hotline.accounts.scope import scope_for
    from hotline.directory import reference
    from hotline.tickets import export, queries

    if file.suffix.lower() != ".xlsx":  # a workbook under out.csv opens as garbage, or not at all
        raise Invalid(f"导出文件名须以 .xlsx 结尾（导出的是 Excel 工作簿）：{file}", code="wrong_suffix")
    if received_from and received_to and received_from >= received_to:
        raise Invalid(f"--from {received_from:%Y-%m-%d} 须早于 --to {received_to:%Y-%m-%d}"
                      "（导出受理时间自 --from 当天起、--to 当天之前的工单，--to 当天不含）", code="invalid_range")
    f = queries.TicketFilter(q=q.strip() or None, status=list(status), overdue=True if overdue else None,
                             region_code=region_code, received_from=_day(received_from), received_to=_day(received_to))
    if not file.parent.is_dir():  # said before a long export, not after it
        raise Invalid(f"无法写入 {file}：目录 {file.parent} 不存在", code="unwritable_file")
    with env.db.transaction(write=False) as session:
        scope = scope_for(active_user(session, username))
        place = reference.region_label(reference.snapshot(session), region_code) if region_code else ""
        # Written beside FILE and renamed when complete: an export that fails leaves no half a workbook.
        part = file.with_name(f".{file.name}.part")
        try:
            done = export.write(session, scope, f, part, filters_text=export.describe(f, place), limit=limit)
            part.replace(file)
        except OSError as exc:
            raise Invalid(f"无法写入 {file}：{_why(exc)}", code="unwritable_file") from None
        finally:
            part.unlink(missing_ok=True)
    if as_json:
        click.echo(json.dumps({"file": str(file), "written": done.written, "total": done.total,
                               "left_out": done.left_out}, ensure_ascii=False))
        return
    click.echo(f"已导出 {done.written} 件工单到 {file}" + (f"（符合条件 {done.total} 件，未列出较早的 {done.left_out} 件）"
                                                         if done.left_out else ""))
