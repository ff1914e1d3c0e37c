"""``hotline incidents``: list, detect, show, confirm and dismiss incidents (突发事件), and publish or
withdraw a confirmed one's public notice, from a shell.

Registered on the main ``hotline`` group by ``cli/main.py``; the commands take its environment
object (``ctx.obj``: ``.settings`` and ``.db``). Each command is one transaction, committed at the
end (the services only flush). Domain errors (unknown incident, an incident already decided, a
user who may not decide, a blank reason) reach the main group and end with ``错误：…`` and exit
status 2, as everywhere in the command line; an unknown user the same way.
"""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hotline.kit.errors import NotFound, PermissionDenied

STATES = ("proposed", "confirmed", "dismissed", "ended")


@click.group()
def incidents() -> None:
    """Incidents: bursts of related tickets that detection proposes and supervisors decide on."""


def active_user(session: Session, username: str) -> Any:
    """The active user ``--by`` names (the service checks the role); shared by the commands that act
    as someone (``incidents confirm/dismiss``, ``tickets import``)."""
    from hotline.accounts.models import User

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户 {username} 不存在", code="user_not_found")
    if not user.active:
        raise PermissionDenied(f"用户 {username} 已停用", code="user_inactive")
    return user


def _when(dt: Any) -> str:
    from hotline.kit import clock

    return clock.local(dt).strftime("%Y-%m-%d %H:%M") if dt is not None else "-"


def _summary_line(snap: Any, incident: Any) -> str:
    from hotline.directory import reference
    from hotline.incidents.models import STATE_LABELS

    area = reference.region_label(snap, incident.area_code) or incident.area_code
    return (f"{incident.id:5d}  {STATE_LABELS[incident.state]}  {incident.title}  "
            f"（{area}，{incident.ticket_count} 件工单，最近 {_when(incident.last_ticket_at)}）")


@incidents.command("list")
@click.option("--status", type=click.Choice(STATES), default=None, help="Only incidents in this state.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="One JSON array (the API's incident objects).")
@click.pass_obj
def list_incidents(env: Any, status: str | None, limit: int, as_json: bool) -> None:
    """Proposed first (newest activity first), then confirmed, then dismissed."""
    from hotline.api.routes.incidents import incident_view
    from hotline.directory import reference
    from hotline.incidents.models import Incident, IncidentState

    order = case((Incident.state == IncidentState.proposed, 0), (Incident.state == IncidentState.confirmed, 1),
                 else_=2)
    query = select(Incident).order_by(order, Incident.last_ticket_at.desc(), Incident.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Incident.state == IncidentState(status))
    with env.db.transaction(write=False) as session:
        snap = reference.snapshot(session)
        rows = list(session.scalars(query))
        if as_json:
            click.echo(json.dumps([incident_view(snap, i) for i in rows], ensure_ascii=False))
            return
        if not rows:
            click.echo("没有" + ({"proposed": "待确认的", "confirmed": "已确认的", "dismissed": "已排除的", "ended": "已结束的"}
                                .get(status or "", "")) + "突发事件")
            return
        for incident in rows:
            click.echo(_summary_line(snap, incident))


@incidents.command("detect")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: counts and the new proposals.")
@click.pass_obj
def detect(env: Any, as_json: bool) -> None:
    """Run incident detection now (the worker does it every 5 minutes) and print what it proposed."""
    from hotline.api.routes.incidents import incident_view
    from hotline.directory import reference
    from hotline.incidents.models import Incident
    from hotline.worker.jobs import detect_incidents

    with env.db.transaction(write=False) as session:
        before = session.scalar(select(func.max(Incident.id))) or 0
    counts = detect_incidents(env.db)  # one transaction, committed, under the workers' lock
    with env.db.transaction(write=False) as session:
        snap = reference.snapshot(session)
        new = list(session.scalars(select(Incident).where(Incident.id > before).order_by(Incident.id)))
        if as_json:
            click.echo(json.dumps({**counts, "new": [incident_view(snap, i) for i in new]}, ensure_ascii=False))
            return
        click.echo(f"检测完成：新提议 {counts['proposed']} 个事件，更新 {counts['updated']} 个")
        for incident in new:
            click.echo(_summary_line(snap, incident))


@incidents.command("show")
@click.argument("incident_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (the API's incident, with every ticket).")
@click.pass_obj
def show(env: Any, incident_id: int, as_json: bool) -> None:
    """An incident: its area, regions and population, keywords, decision, and every ticket."""
    from hotline.accounts.models import User
    from hotline.api.routes.incidents import incident_view
    from hotline.directory import reference
    from hotline.incidents import public_notice, service
    from hotline.incidents.models import IncidentTicket
    from hotline.tickets.models import Ticket

    with env.db.transaction(write=False) as session:
        incident = service.get(session, incident_id)
        snap = reference.snapshot(session)
        rows = session.execute(
            select(Ticket, IncidentTicket.linked, IncidentTicket.removed_at)
            .join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
            .where(IncidentTicket.incident_id == incident.id).order_by(Ticket.received_at, Ticket.id)).all()
        notice = public_notice.current(session, incident)
        if as_json:
            out = incident_view(snap, incident, [t for t, _, _ in rows], notice)
            for item, (_, linked, removed) in zip(out["tickets"], rows, strict=True):
                item["linked"], item["removed"] = linked, removed is not None
            click.echo(json.dumps(out, ensure_ascii=False))
            return
        click.echo(_summary_line(snap, incident))
        category = snap.categories.get(incident.category_code)
        click.echo(f"  类别：{category.name if category else incident.category_code}   "
                   f"关键词：{'、'.join(incident.keywords or []) or '-'}")
        click.echo("  涉及：" + "、".join(reference.region_label(snap, c) for c in incident.region_codes or [])
                   + f"（人口 {incident.population}）")
        click.echo(f"  时间：{_when(incident.first_ticket_at)} 至 {_when(incident.last_ticket_at)}，"
                   f"检测于 {_when(incident.detected_at)}")
        if incident.decided_at is not None:
            by = session.get(User, incident.decided_by_id) if incident.decided_by_id else None
            click.echo(f"  处理：{by.username if by else '-'} 于 {_when(incident.decided_at)}"
                       + (f"，{incident.note}" if incident.note else ""))
        if notice is not None:
            click.echo(f"  对外公告（{_when(notice.published_at)} 发布）：{notice.text}")
        click.echo(f"  工单（{len(rows)} 件）：")
        for ticket, linked, removed in rows:
            shown = "已移出" if removed is not None else "已关联" if linked else "候选"
            click.echo(f"    {ticket.number}  {_when(ticket.received_at)}  {shown}  "
                       f"{reference.region_label(snap, ticket.region_code)}  {ticket.title}")


@incidents.command("confirm")
@click.argument("incident_id", type=int)
@click.option("--by", "username", required=True, help="The supervisor, dispatcher or admin who decides.")
@click.option("--note", default=None, help="What it is (e.g. the cause found).")
@click.pass_obj
def confirm(env: Any, incident_id: int, username: str, note: str | None) -> None:
    """Confirm a proposed incident: its tickets are linked and told on their timelines."""
    from hotline.incidents import service

    with env.db.transaction() as session:
        actor = active_user(session, username)
        incident = service.confirm(session, service.get(session, incident_id), actor=actor, note=note)
        linked = len(service.ticket_ids(session, incident, linked=True))
        title = incident.title
    click.echo(f"已确认事件 {incident_id}「{title}」，关联工单 {linked} 件")


@incidents.command("dismiss")
@click.argument("incident_id", type=int)
@click.option("--by", "username", required=True, help="The supervisor, dispatcher or admin who decides.")
@click.option("--reason", required=True, help="Why it is not an incident (required).")
@click.pass_obj
def dismiss(env: Any, incident_id: int, username: str, reason: str) -> None:
    """Dismiss a proposed incident, with the reason; its tickets are not proposed again."""
    from hotline.incidents import service

    with env.db.transaction() as session:
        actor = active_user(session, username)
        incident = service.dismiss(session, service.get(session, incident_id), actor=actor, reason=reason)
        title = incident.title
    click.echo(f"已排除事件 {incident_id}「{title}」：{reason.strip()}")


@incidents.command("notice")
@click.argument("incident_id", type=int)
@click.option("--by", "username", required=True, help="The supervisor, dispatcher or admin who publishes.")
@click.option("--text", default=None, help="What citizens are told (5 to 300 characters).")
@click.option("--withdraw", is_flag=True, help="Take the live notice down instead.")
@click.pass_obj
def notice(env: Any, incident_id: int, username: str, text: str | None, withdraw: bool) -> None:
    """Publish (or replace) a confirmed incident's public notice, shown on the citizen portal and to
    agents at intake for 72 hours; or withdraw it."""
    from hotline.incidents import public_notice, service

    if withdraw == (text is not None):
        raise click.UsageError("请给出 --text 公告内容，或 --withdraw 撤下公告（二选一）")
    with env.db.transaction() as session:
        actor = active_user(session, username)
        incident = service.get(session, incident_id)
        if withdraw:
            public_notice.withdraw(session, incident, actor=actor)
        else:
            public_notice.publish(session, incident, actor=actor, text=text or "")
    click.echo(f"已撤下事件 {incident_id} 的对外公告" if withdraw else f"已发布事件 {incident_id} 的对外公告")
