"""``hotline tickets import FILE --by USERNAME [--dry-run] [--json]``: register the requests of a CSV
or XLSX file (:mod:`hotline.importing.tickets`), all or nothing.

Registered on the main ``hotline`` group by ``cli/main.py``. A file with refused rows prints every
row number and reason, keeps nothing and exits with status 1; an unreadable file, a missing column
or an unknown user ends with ``错误：…`` and exit status 2, as everywhere in the command line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from hotline.cli.incidents import active_user


@click.group()
def tickets() -> None:
    """Tickets in bulk: import requests from a spreadsheet."""


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
