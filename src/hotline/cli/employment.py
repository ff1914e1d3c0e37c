"""``hotline employment import FILE --by USERNAME [--dry-run] [--json]``: add the workers of a CSV or
XLSX file to the labour ledger (:mod:`hotline.employment.ledger`), all or nothing, within what the
named account may edit (``employment.scope``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from hotline.cli.incidents import active_user


@click.group()
def employment() -> None:
    """Village employment service stations (就业服务站): the labour ledger in bulk."""


@employment.command("import")
@click.argument("file", type=click.Path(path_type=Path, allow_dash=True))
@click.option("--by", "username", required=True, help="The staff account the rows are added by (its scope applies).")
@click.option("--dry-run", is_flag=True, help="Check every row and keep nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: rows, added, problems.")
@click.pass_obj
def import_ledger(env: Any, file: Path, username: str, dry_run: bool, as_json: bool) -> None:
    """Add every row of FILE (CSV in UTF-8, or XLSX): columns 村, 姓名, 就业状态, 性别 and 出生年份 (or
    身份证号) and, optionally, 联系电话, 文化程度, 技能特长, 就业地点, 就业单位, 就业意向, 是否需要帮扶, 备注."""
    from hotline.employment.ledger import import_file
    from hotline.employment.scope import ledger_scope

    with env.db.transaction() as session:
        user = active_user(session, username)
        result = import_file(session, ledger_scope(session, user), file, actor=user, dry_run=dry_run)
        if not result.ok or dry_run:
            session.rollback()
    added = 0 if (dry_run or not result.ok) else len(result.added)
    if as_json:
        click.echo(json.dumps({"rows": result.rows, "added": added, "dry_run": dry_run,
                               "problems": [{"row": p.row, "message": p.message} for p in result.problems]},
                              ensure_ascii=False))
    elif result.problems:
        for p in result.problems:
            click.echo(f"第 {p.row} 行：{p.message}")
        click.echo(f"{len(result.problems)} 行有问题，{result.rows} 行均未导入：改正后重新导入整个文件")
    elif dry_run:
        click.echo(f"检查通过：{result.rows} 行均可导入（--dry-run，未导入）")
    else:
        click.echo(f"已导入 {added} 人")
    if result.problems:
        raise SystemExit(1)


@employment.group()
def station() -> None:
    """The villages that have a station (就业服务站): only they keep a ledger and activities."""


@station.command("add")
@click.argument("village")
@click.option("--name", default=None, help="The station's name (default: 〈村〉劳动保障服务站).")
@click.option("--phone", default=None, help="The station's telephone.")
@click.option("--opened", "opened_on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day it opened, YYYY-MM-DD.")
@click.pass_obj
def add_station(env: Any, village: str, name: str | None, phone: str | None, opened_on: Any) -> None:
    """Open the station of VILLAGE (a village's 12-digit region code)."""
    from hotline.employment import service
    from hotline.employment.scope import EVERYWHERE
    from hotline.kit.errors import DomainError

    try:
        with env.db.transaction() as session:
            made = service.add_station(session, EVERYWHERE, village_code=village, name=name, phone=phone,
                                       opened_on=opened_on.date() if opened_on else None)
            click.echo(f"已设立：{made.name}（{made.village_code}）")
    except DomainError as err:
        raise click.ClickException(err.message) from None


@station.command("list")
@click.pass_obj
def list_stations(env: Any) -> None:
    """Every station: region code, name, telephone, opening day."""
    from hotline.employment import queries
    from hotline.employment.scope import EVERYWHERE

    with env.db.transaction(write=False) as session:
        for s in queries.stations(session, EVERYWHERE):
            click.echo("\t".join((s.village_code, s.name, s.phone or "", s.opened_on.isoformat() if s.opened_on else "")))
