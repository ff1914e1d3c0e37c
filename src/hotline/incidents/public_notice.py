"""Public notices (对外公告) about confirmed incidents: what citizens are told while the water is off.

A supervisor who has confirmed an incident may publish a short notice for the public (the
supervisor's confirmation note is internal and never shown). The citizen portal lists the live
notices above its form, the place hint under the location field mentions one covering the place
typed, and agents see it at intake, so a caller can be told at once; the callers whose tickets are
linked to the incident get it by SMS (and those linked later, while it is live, when they are linked). A notice is live until it is
withdrawn or ``NOTICE_HOURS`` after it was published (an outage notice left up by mistake must not
stay for ever); publishing again replaces it with a new row, so every public statement is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.incidents.models import Incident, IncidentNotice, IncidentState, IncidentTicket
from hotline.incidents.service import NOTICE_EXPIRES as EXPIRES
from hotline.incidents.service import NOTICE_HOURS as NOTICE_HOURS  # noqa: I001 (re-exported for pages, tests)
from hotline.incidents.service import area_holds, live_notice, lock, record_notice, require_decider
from hotline.kit import clock
from hotline.kit.errors import Invalid, TransitionNotAllowed
from hotline.tickets.models import Ticket

MIN_CHARS, MAX_CHARS = 5, 300


@dataclass
class Live:
    """A notice shown now, with its incident (for the area and the title)."""

    notice: IncidentNotice
    incident: Incident

    @property
    def expires_at(self) -> datetime:
        return self.notice.published_at + EXPIRES


def suggested_text(incident: Incident, place: str) -> str:
    """A first draft for the supervisor: where and what, and that the unit is on it."""
    what = incident.title.split("集中反映", 1)[-1]  # 停水, or a heading such as 供水问题
    return f"{place}部分地区出现{what}{'' if what.endswith('问题') else '情况'}，相关部门正在处理，恢复时间另行通知。"


def current(session: Session, incident: Incident, *, now: datetime | None = None) -> IncidentNotice | None:
    """The incident's live notice, or None."""
    return live_notice(session, incident, now=now or clock.now())


def publish(session: Session, incident: Incident, *, actor: User, text: str,
            now: datetime | None = None) -> IncidentNotice:
    """Publish (or replace) the incident's public notice. Only a confirmed incident has one: a
    proposed one may be nothing, a dismissed one is nothing. Each ticket linked to the incident gets
    a line on its timeline, and its caller an SMS with the notice (once per publication). The same
    text as the live notice publishes nothing new: it is that notice, and nobody is told again. The
    incident's row is locked first (as its decisions lock it): a double click sent to two processes
    publishes once, and a notice sent as the incident is ended is refused."""
    require_decider(actor)
    lock(session, incident)
    if incident.state != IncidentState.confirmed:
        raise TransitionNotAllowed("只有已确认的突发事件可以发布对外公告", code="incident_not_confirmed")
    words = " ".join((text or "").split())
    if len(words) < MIN_CHARS:
        raise Invalid(f"请填写公告内容（至少 {MIN_CHARS} 个字）", code="notice_required", details={"field": "notice"})
    if len(words) > MAX_CHARS:
        raise Invalid(f"公告内容最多 {MAX_CHARS} 个字（现有 {len(words)} 个）", code="notice_too_long",
                      details={"field": "notice"})
    at = now or clock.now()
    before = current(session, incident, now=at)
    if before is not None and before.text == words:  # sent twice (a double click, a retry): told once
        return before
    if before is not None:
        before.withdrawn_at, before.withdrawn_by_id = at, actor.id
    notice = IncidentNotice(incident_id=incident.id, text=words, published_at=at, published_by_id=actor.id)
    session.add(notice)
    session.flush()
    linked = select(IncidentTicket.ticket_id).where(IncidentTicket.incident_id == incident.id,
                                                    IncidentTicket.linked.is_(True))
    for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(linked)).order_by(Ticket.id)):
        # the timeline says what the public was told; the callers hear it by SMS (notices.events)
        record_notice(session, ticket, notice, actor, at=at)
    session.flush()
    return notice


def withdraw(session: Session, incident: Incident, *, actor: User, now: datetime | None = None) -> IncidentNotice:
    """Take the live notice down (the water is back). The incident's row is locked first: two sent
    at once take it down once, and the second is told there is none up."""
    require_decider(actor)
    lock(session, incident)
    at = now or clock.now()
    notice = current(session, incident, now=at)
    if notice is None:
        raise TransitionNotAllowed("该事件没有正在发布的公告", code="notice_not_live")
    notice.withdrawn_at, notice.withdrawn_by_id = at, actor.id
    session.flush()
    return notice


def live(session: Session, *, now: datetime | None = None, region_code: str | None = None,
         limit: int = 20) -> list[Live]:
    """The live notices, newest first; with ``region_code``, those whose incident's area holds it
    or lies inside it (a citizen who names only the township hears of its village's outage)."""
    at = now or clock.now()
    q = (select(IncidentNotice, Incident).join(Incident, Incident.id == IncidentNotice.incident_id)
         .where(IncidentNotice.withdrawn_at.is_(None), Incident.state == IncidentState.confirmed,
                IncidentNotice.published_at > at - EXPIRES))
    if region_code:
        q = q.where(area_holds(region_code))
    rows = session.execute(q.order_by(IncidentNotice.published_at.desc(), IncidentNotice.id.desc()).limit(limit))
    return [Live(n, i) for n, i in rows]


def for_tickets(session: Session, ticket_ids: list[int], *, now: datetime | None = None) -> dict[int, IncidentNotice]:
    """The live notice of the incident each ticket is linked to (tickets without one left out)."""
    if not ticket_ids:
        return {}
    at = now or clock.now()
    rows = session.execute(
        select(IncidentTicket.ticket_id, IncidentNotice)
        .join(IncidentNotice, IncidentNotice.incident_id == IncidentTicket.incident_id)
        .join(Incident, Incident.id == IncidentTicket.incident_id)
        .where(IncidentTicket.ticket_id.in_(ticket_ids), IncidentTicket.linked.is_(True),
               Incident.state == IncidentState.confirmed, IncidentNotice.withdrawn_at.is_(None),
               IncidentNotice.published_at > at - EXPIRES)
        .order_by(IncidentNotice.published_at, IncidentNotice.id))
    return {ticket_id: notice for ticket_id, notice in rows}  # the newest wins
