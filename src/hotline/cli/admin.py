"""Operator commands: messages that failed to send (``hotline outbox``) and operating rules
(``hotline settings``). Registered on the main ``hotline`` group by ``cli/main.py``.

The commands take the main group's environment object (``ctx.obj``, with ``.db``); domain errors
(an unknown rule, a value out of range) become ``错误：…`` on stderr with exit status 2 there.
"""

from __future__ import annotations

import json
from typing import Any

import click

from hotline.kit.errors import NotFound

ERROR_WIDTH = 60  # the table shows the start of a long gateway error; --json has all of it


@click.group()
def outbox() -> None:
    """Outgoing messages: those that failed to send, and sending them again."""


def _short(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _local(iso_text: str | None) -> str:
    return iso_text[:16].replace("T", " ") if iso_text else ""


@outbox.command("failed")
@click.option("--json", "as_json", is_flag=True, help="A JSON array (for scripts).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True,
              help="Show at most this many, newest first (the total is always counted).")
@click.pass_obj
def outbox_failed(env: Any, as_json: bool, limit: int) -> None:
    """Messages set aside after failing too often, with the last error."""
    from hotline.notices.admin import count_in, messages_in, outbox_view
    from hotline.notify.models import MessageState

    with env.db.transaction(write=False) as session:
        rows = outbox_view(session, messages_in(session, MessageState.dead, limit=limit))
        total = count_in(session, MessageState.dead) if len(rows) == limit else len(rows)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("没有发送失败的消息")
        return
    click.echo("编号\t创建时间\t收件人\t模板\t尝试次数\t最后错误")
    for m in rows:
        who = m["recipient_name"] or m["recipient"]
        click.echo(f"{m['id']}\t{_local(m['created_at'])}\t{who}\t{m['template']}\t{m['attempts']}\t"
                   f"{_short(m['last_error'], ERROR_WIDTH)}")
    shown = f"，显示最新 {len(rows)} 条（--limit 调整）" if total > len(rows) else ""
    click.echo(f"共 {total} 条{shown}；排除原因后用 hotline outbox retry 编号… 或 --all 重新发送", err=True)


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=click.IntRange(min=1, max=2**31 - 1))
@click.option("--all", "retry_all", is_flag=True, help="Every failed message.")
@click.pass_obj
def outbox_retry(env: Any, ids: tuple[int, ...], retry_all: bool) -> None:
    """Put failed messages back in the queue (attempts start again from zero)."""
    from hotline.notices.admin import retry

    if bool(ids) == retry_all:
        raise click.UsageError("请给出消息编号，或用 --all 重新发送全部失败的消息（二者选一）")
    with env.db.transaction() as session:
        outcome = retry(session, None if retry_all else list(ids))
    click.echo(f"已重新排队 {outcome['retried']} 条消息")
    if outcome["skipped"]:
        skipped = "、".join(str(i) for i in outcome["skipped"])
        raise NotFound(f"编号 {skipped} 不是发送失败的消息，未重新发送", code="not_dead")


@click.group("settings")
def settings_group() -> None:
    """Operating rules: warning share, urging and escalation delays, callback rules."""


def _shown(value: Any) -> str:
    from hotline.directory.settings import number

    return json.dumps(value, ensure_ascii=False) if isinstance(value, bool) else number(value)


@settings_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array (for scripts).")
@click.pass_obj
def settings_list(env: Any, as_json: bool) -> None:
    """Every rule: value (* when changed from the default), default and meaning."""
    from hotline.directory.settings import all_rules

    with env.db.transaction(write=False) as session:
        rows = all_rules(session)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    width = max(len(r["key"]) for r in rows)
    for r in rows:
        mark = "*" if r["customized"] else " "
        click.echo(f"{r['key']:<{width}}  {_shown(r['value']):>6}{mark} （默认 {_shown(r['default'])}）  {r['label']}")


@settings_group.command("set")
@click.argument("key")
@click.argument("value")
@click.pass_obj
def settings_set(env: Any, key: str, value: str) -> None:
    """Change a rule, e.g. ``hotline settings set supervision.warn_share 0.75``."""
    from hotline.directory import settings as rules

    with env.db.transaction() as session:
        stored = rules.set_value(session, key, value)
    click.echo(f"已设置 {key} = {_shown(stored)}（{rules.RULES[key].label}）")


@settings_group.command("reset")
@click.argument("key")
@click.pass_obj
def settings_reset(env: Any, key: str) -> None:
    """Put a rule back to its default."""
    from hotline.directory import settings as rules

    with env.db.transaction() as session:
        rules.reset(session, key)
    click.echo(f"已恢复默认：{key} = {_shown(rules.RULES[key].default)}")
