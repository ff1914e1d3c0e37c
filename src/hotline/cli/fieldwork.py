"""``hotline fieldwork``: emergency field work (抢收抢种) from a shell: operations and their
dashboard, tasks, and the field's two everyday writes (progress, completion) as a named user.

Registered on the main group by ``cli/main.py``; each command is one transaction. Reads without
``--by`` see everything (the platform's own view); ``--by USER`` reads and acts as that person,
under the same rule as the pages and the API (``fieldwork.access``). Domain errors end with
``错误：…`` and exit status 2.
"""

from __future__ import annotations

import json
from typing import Any

import click

from hotline.cli.incidents import active_user

TASK_STATES = ("pending", "scheduled", "working", "done", "cancelled", "unfinished")


@click.group()
def fieldwork() -> None:
    """Emergency field work (抢收抢种): operations, field tasks, progress."""


def _scope(session: Any, username: str | None) -> tuple[Any, Any]:
    from hotline.fieldwork.access import SYSTEM, field_scope, require_any

    if username is None:
        return None, SYSTEM
    user = active_user(session, username)
    scope = field_scope(session, user)
    require_any(scope)
    return user, scope


@fieldwork.command("operations")
@click.option("--by", "username", default=None, help="Read as this user (their scope).")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.pass_obj
def operations(env: Any, username: str | None, as_json: bool) -> None:
    """Operations, open first, with tasks and area done."""
    from hotline.directory import reference
    from hotline.fieldwork import queries
    from hotline.fieldwork.states import OPERATION_STATE_LABELS

    with env.db.transaction(write=False) as session:
        _, scope = _scope(session, username)
        snap = reference.snapshot(session)
        rows = queries.operations(session, scope)
        if as_json:
            click.echo(json.dumps([{"id": r["operation"].id, "name": r["operation"].name,
                                    "township_code": r["operation"].township_code, "state": r["operation"].state.value,
                                    "tasks": r["tasks"], "unfinished": r["unfinished"], "area": r["area"],
                                    "area_done": r["area_done"]} for r in rows], ensure_ascii=False))
            return
        if not rows:
            click.echo("没有抢收抢种行动")
        for r in rows:
            o = r["operation"]
            click.echo(f"{o.id:4d}  {OPERATION_STATE_LABELS[o.state]}  {o.name}（{reference.region_label(snap, o.township_code)}）"
                       f"  任务 {r['tasks']} 项，未完成 {r['unfinished']}，完成 {r['area_done']:g}/{r['area']:g} 亩")


@fieldwork.command("dashboard")
@click.argument("operation_id", type=int)
@click.option("--by", "username", default=None, help="Read as this user (their scope).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (the API's dashboard).")
@click.pass_obj
def dashboard(env: Any, operation_id: int, username: str | None, as_json: bool) -> None:
    """Per village area and share, tasks by state, overdue, machines and volunteers."""
    from hotline.fieldwork import queries

    with env.db.transaction(write=False) as session:
        _, scope = _scope(session, username)
        op = queries.get_operation(session, scope, operation_id)
        board = queries.dashboard(session, scope, op)
        if as_json:
            click.echo(json.dumps(board, ensure_ascii=False))
            return
        share = f"（{board['share']:.0%}）" if board["share"] is not None else ""
        click.echo(f"{op.name}：任务 {board['tasks']} 项，完成 {board['area_done']:g}/{board['area']:g} 亩{share}，"
                   f"超期 {board['overdue']} 项")
        click.echo("  " + "，".join(f"{s['label']} {s['count']}" for s in board["states"]))
        click.echo(f"  本行动：农机作业中 {board['machines']['working']}，志愿者在岗 {board['volunteers']['on_task']}；"
                   f"全镇：农机可调派 {board['machines']['available']}，维修 {board['machines']['repair']}，"
                   f"志愿者待命 {board['volunteers']['free']}")
        for v in board["villages"]:
            pct = f"{v['share']:.0%}" if v["share"] is not None else "—"
            click.echo(f"  {v['name']:<6} 任务 {v['tasks']:2d}  未完成 {v['unfinished']:2d}  超期 {v['overdue']:2d}  "
                       f"{v['area_done']:g}/{v['area']:g} 亩  {pct}")


@fieldwork.command("tasks")
@click.option("--operation", "operation_id", type=int, default=None)
@click.option("--state", type=click.Choice(TASK_STATES), default=None)
@click.option("--village", "village_code", default=None, help="12-digit village code.")
@click.option("--overdue", is_flag=True, help="Only unfinished tasks past their due day.")
@click.option("--by", "username", default=None, help="Read as this user (their scope).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.pass_obj
def tasks(env: Any, operation_id: int | None, state: str | None, village_code: str | None, overdue: bool,
          username: str | None, limit: int) -> None:
    """Field tasks, unfinished and most urgent first."""
    from hotline.directory import reference
    from hotline.fieldwork import queries
    from hotline.fieldwork.states import TASK_STATE_LABELS, WORK_KIND_LABELS

    with env.db.transaction(write=False) as session:
        _, scope = _scope(session, username)
        f = queries.TaskFilter(operation_id=operation_id, state=state, village_code=village_code, overdue=overdue)
        rows = queries.list_tasks(session, scope, f, limit=limit)
        snap = reference.snapshot(session)
        if not rows:
            click.echo("没有符合条件的任务")
        for t in rows:
            area = f"{t.area_done:g}/{t.area:g} 亩" if t.area is not None else "—"
            click.echo(f"#{t.id:<4d} {TASK_STATE_LABELS[t.state]}  {snap.regions[t.village_code][0]} {t.plot}  "
                       f"{WORK_KIND_LABELS[t.work_kind]}  {area}  要求 {t.due_date}")


@fieldwork.command("progress")
@click.argument("task_id", type=int)
@click.option("--by", "username", required=True, help="The township or village handler reporting.")
@click.option("--area", default=None, help="亩 done since the last report.")
@click.option("--note", default=None)
@click.pass_obj
def progress(env: Any, task_id: int, username: str, area: str | None, note: str | None) -> None:
    """Report progress on a task (never past its area)."""
    from hotline.fieldwork import queries, service

    with env.db.transaction() as session:
        user, scope = _scope(session, username)
        task = queries.get_task(session, scope, task_id)
        service.report_progress(session, task, actor=user, area=area, note=note)
        done = f"{task.area_done:g}/{task.area:g} 亩" if task.area is not None else "已记录"
    click.echo(f"任务 #{task_id} 进度已上报：{done}")


@fieldwork.command("complete")
@click.argument("task_id", type=int)
@click.option("--by", "username", required=True, help="The township coordinator (or a supervisor or admin).")
@click.option("--note", default=None)
@click.pass_obj
def complete(env: Any, task_id: int, username: str, note: str | None) -> None:
    """Complete a task; its machines and volunteers are released."""
    from hotline.fieldwork import queries, service

    with env.db.transaction() as session:
        user, scope = _scope(session, username)
        service.complete(session, queries.get_task(session, scope, task_id), actor=user, note=note)
    click.echo(f"任务 #{task_id} 已完成，农机和人员已释放")
