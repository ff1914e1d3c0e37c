"""What supervisors do with an incident: confirm it (its tickets linked), dismiss it (with a
reason; its tickets are never proposed again), end a confirmed one (it takes no more calls) and
reopen it, add tickets to it or take a wrong one out (of a proposal too); each step a row of
``incident_events``; and the reads the pages need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.incidents.models import (
    Incident,
    IncidentAction,
    IncidentEvent,
    IncidentNotice,
    IncidentState,
    IncidentTicket,
)
from hotline.incidents.summary import counted, refresh
from hotline.kit import clock
from hotline.kit.errors import Invalid, NotFound, PermissionDenied, TransitionNotAllowed
from hotline.tickets import validation
from hotline.tickets.models import Ticket
from hotline.tickets.timeline import record_event

DECIDERS = (Role.supervisor, Role.admin, Role.dispatcher)
MAX_NOTE = 2000  # a confirmation note or a dismissal reason: as long as a 催办/督办 note may be
NOTICE_HOURS = 72  # a public notice is live until withdrawn, or this long after it was published
NOTICE_EXPIRES = timedelta(hours=NOTICE_HOURS)


def require_decider(actor: User) -> None:
    if actor.role not in DECIDERS:
        raise PermissionDenied("只有督办员、派单员和管理员可以处理突发事件", code="incident_forbidden")


DONE = {IncidentState.confirmed: "确认", IncidentState.dismissed: "排除", IncidentState.ended: "结束"}


def _proposed(incident: Incident, action: str) -> None:
    if incident.state != IncidentState.proposed:
        raise TransitionNotAllowed(f"该事件已{DONE[incident.state]}，不能再{action}", code="incident_decided")


def _record(session: Session, incident: Incident, action: IncidentAction, actor: User, at: datetime,
            ticket_id: int | None = None) -> None:
    session.add(IncidentEvent(incident_id=incident.id, action=action, at=at, actor_id=actor.id, ticket_id=ticket_id))


def lock(session: Session, incident: Incident) -> None:
    """Hold the incident's row until the transaction ends, read afresh (``SELECT … FOR UPDATE``):
    two decisions sent at once (确认 and 排除 from two tabs or processes) run one after the other, and
    the second sees the state the first left. The detection (before it adds a call to the incident)
    and the public notices take the same lock. Unflushed changes are flushed first, not dropped."""
    incident_id = incident.id
    session.flush()
    try:
        session.refresh(incident, with_for_update=True)
    except InvalidRequestError:  # gone meanwhile (a proposal merged into the incident it continues)
        raise NotFound(f"事件 {incident_id} 不存在", code="incident_not_found") from None


def get(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"事件 {incident_id} 不存在", code="incident_not_found")
    return incident


def confirm(session: Session, incident: Incident, *, actor: User, note: str | None = None,
            now: datetime | None = None) -> Incident:
    """Proposed → confirmed; every ticket of the incident is linked to it (not those taken out)."""
    lock(session, incident)
    require_decider(actor)
    _proposed(incident, "确认")
    text = validation.require_text(note, "note", "确认说明", max_chars=MAX_NOTE, required=False)
    at = now or clock.now()
    incident.state = IncidentState.confirmed
    incident.decided_by_id, incident.decided_at = actor.id, at
    incident.note = text
    links = list(session.scalars(select(IncidentTicket).where(IncidentTicket.incident_id == incident.id,
                                                              IncidentTicket.removed_at.is_(None))))
    for link in links:
        link.linked = True
    _record(session, incident, IncidentAction.confirmed, actor, at)
    tell_linked(session, incident, [link.ticket_id for link in links], actor=actor, at=at)
    session.flush()
    return incident


def tell_linked(session: Session, incident: Incident, ticket_ids: list[int], *, actor: User | None,
                at: datetime) -> None:
    """A line on each ticket's timeline saying it is linked to the confirmed ``incident`` (at
    confirmation, and for every ticket linked after it: added by hand or found by the detection)."""
    words = f"确认为突发事件「{incident.title}」（共 {incident.ticket_count} 件工单）"
    notice = live_notice(session, incident, now=at)
    for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)).order_by(Ticket.id)):
        record_event(session, ticket, "incident", actor, reason=words, at=at,
                     details={"incident_id": incident.id, "title": incident.title})
        if notice is not None:  # linked while a notice is up: the caller is told it as the others were
            record_notice(session, ticket, notice, actor, at=at)


def live_notice(session: Session, incident: Incident, *, now: datetime) -> IncidentNotice | None:
    """The incident's public notice shown now, or None (withdrawn, or older than NOTICE_HOURS)."""
    return session.scalar(
        select(IncidentNotice).where(IncidentNotice.incident_id == incident.id, IncidentNotice.withdrawn_at.is_(None),
                                     IncidentNotice.published_at > now - NOTICE_EXPIRES)
        .order_by(IncidentNotice.published_at.desc(), IncidentNotice.id.desc()).limit(1))


def record_notice(session: Session, ticket: Ticket, notice: IncidentNotice, actor: User | None, *,
                  at: datetime) -> None:
    """The ticket's timeline line with the public notice; its caller hears it by SMS (notices.events,
    once per notice and ticket)."""
    record_event(session, ticket, "incident_notice", actor, reason=f"发布对外公告：{notice.text}", at=at,
                 details={"incident_id": notice.incident_id, "notice_id": notice.id, "text": notice.text})


def dismiss(session: Session, incident: Incident, *, actor: User, reason: str,
            now: datetime | None = None) -> Incident:
    """Proposed → dismissed, with the reason; detection leaves its tickets out from now on."""
    lock(session, incident)
    require_decider(actor)
    _proposed(incident, "排除")
    if not (reason or "").strip():
        raise Invalid("请填写排除理由", code="reason_required", details={"field": "reason"})
    text = validation.require_text(reason, "reason", "排除理由", max_chars=MAX_NOTE)
    at = now or clock.now()
    incident.state = IncidentState.dismissed
    incident.decided_by_id, incident.decided_at = actor.id, at
    incident.note = text
    _record(session, incident, IncidentAction.dismissed, actor, at)
    session.flush()
    return incident


def end(session: Session, incident: Incident, *, actor: User, now: datetime | None = None) -> Incident:
    """Confirmed → ended (the water is back): the detection links no more calls to it, agents are no
    longer told of it at intake, and its live public notice is taken down. Its tickets stay linked."""
    lock(session, incident)
    require_decider(actor)
    if incident.state != IncidentState.confirmed:
        raise TransitionNotAllowed("只有已确认的事件可以结束" + (f"（该事件已{DONE[incident.state]}）"
                                                         if incident.state in DONE else ""),
                                   code="incident_not_confirmed")
    at = now or clock.now()
    notice = live_notice(session, incident, now=at)
    if notice is not None:
        notice.withdrawn_at, notice.withdrawn_by_id = at, actor.id
    incident.state, incident.updated_at = IncidentState.ended, at
    _record(session, incident, IncidentAction.ended, actor, at)
    session.flush()
    return incident


def reopen(session: Session, incident: Incident, *, actor: User, now: datetime | None = None) -> Incident:
    """Ended → confirmed (重新开启: ended too early, the calls keep coming). Its tickets stay as they
    were (linked; those taken out stay out); from the next detection run, calls that continue it are
    linked again, and agents taking a call from its area are told again while a call is recent. A
    proposal the detection made of the same burst while it was ended is merged into it (see
    ``_take_over``). A public notice taken down at the end stays down: publish again if citizens
    should be told."""
    require_decider(actor)
    lock(session, incident)
    if incident.state != IncidentState.ended:
        raise TransitionNotAllowed("只有已结束的事件可以重新开启" + (
            "（该事件仍在进行）" if incident.state == IncidentState.confirmed else
            f"（该事件{'待确认' if incident.state == IncidentState.proposed else '已' + DONE[incident.state]}）"),
            code="incident_not_ended")
    at = now or clock.now()
    ended_at = incident.updated_at
    incident.state, incident.updated_at = IncidentState.confirmed, at
    _record(session, incident, IncidentAction.reopened, actor, at)
    session.flush()
    _take_over(session, incident, since=ended_at, actor=actor, at=at)
    return incident


def _overlapping(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def _take_over(session: Session, incident: Incident, *, since: datetime, actor: User, at: datetime) -> None:
    """The proposals the detection made of the same burst while ``incident`` was ended (same kind of
    call, an area inside its own or around it, detected after the end) are merged into it when it is
    reopened, so the burst is not left open twice: their calls are linked to the reopened incident
    (each told so on its timeline; a call taken out of the incident stays out), what people did to
    the proposal (calls added or taken out) becomes the incident's history, and the proposal, which
    nobody decided, goes."""
    prefix = incident.category_code
    proposals = [p for p in session.scalars(
        select(Incident).where(Incident.state == IncidentState.proposed, Incident.id != incident.id,
                               Incident.category_code.between(prefix, prefix + "9" * (12 - len(prefix))),
                               Incident.detected_at >= since).order_by(Incident.id).with_for_update())
        if _overlapping(p.area_code, incident.area_code)]
    if not proposals:
        return
    have = set(session.scalars(select(IncidentTicket.ticket_id).where(IncidentTicket.incident_id == incident.id)))
    new: list[int] = []
    for proposal in proposals:
        for link in session.scalars(select(IncidentTicket).where(IncidentTicket.incident_id == proposal.id)
                                    .order_by(IncidentTicket.id)):
            if link.ticket_id in have:
                continue
            have.add(link.ticket_id)
            taken_out = link.removed_at is not None  # stays out: the detection must not bring it back
            session.add(IncidentTicket(incident_id=incident.id, ticket_id=link.ticket_id, linked=not taken_out,
                                       added_at=link.added_at, added_by_id=link.added_by_id,
                                       removed_at=link.removed_at, removed_by_id=link.removed_by_id))
            if not taken_out:
                new.append(link.ticket_id)
        for event in session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == proposal.id)):
            event.incident_id = incident.id
        session.flush()
        session.execute(delete(IncidentTicket).where(IncidentTicket.incident_id == proposal.id))
        session.delete(proposal)
    session.flush()
    refresh(session, incident, now=at)
    tell_linked(session, incident, new, actor=actor, at=at)
    session.flush()


def _changeable(incident: Incident, action: str) -> None:
    if incident.state in (IncidentState.dismissed, IncidentState.ended):
        raise TransitionNotAllowed(f"已{DONE[incident.state]}的事件不能{action}", code="incident_decided")


def add_tickets(session: Session, incident: Incident, *, actor: User, numbers: list[str],
                now: datetime | None = None) -> int:
    """Add tickets by number to a proposed or confirmed incident (linked when confirmed; a ticket
    taken out before is put back); returns how many were new."""
    lock(session, incident)
    require_decider(actor)
    _changeable(incident, "添加工单")
    at = now or clock.now()
    wanted = [n.strip() for n in numbers if n.strip()]
    if not wanted:
        raise Invalid("请填写要添加的工单号", code="numbers_required", details={"field": "numbers"})
    found = {n: i for n, i in session.execute(select(Ticket.number, Ticket.id).where(Ticket.number.in_(wanted)))}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise NotFound(f"工单 {'、'.join(missing)} 不存在", code="ticket_not_found")
    confirmed = incident.state == IncidentState.confirmed
    have = {link.ticket_id: link for link in session.scalars(
        select(IncidentTicket).where(IncidentTicket.incident_id == incident.id))}
    new = []
    for tid in dict.fromkeys(found[n] for n in wanted):
        link = have.get(tid)
        if link is None:
            session.add(IncidentTicket(incident_id=incident.id, ticket_id=tid, added_at=at, added_by_id=actor.id,
                                       linked=confirmed))
        elif link.removed_at is not None:  # taken out before, put back
            link.linked, link.added_at, link.added_by_id = confirmed, at, actor.id
            link.removed_at = link.removed_by_id = None
        else:
            continue
        _record(session, incident, IncidentAction.added, actor, at, tid)
        new.append(tid)
    session.flush()
    refresh(session, incident, now=at)
    if confirmed:
        tell_linked(session, incident, new, actor=actor, at=at)
        session.flush()
    return len(new)


def remove_ticket(session: Session, incident: Incident, *, actor: User, number: str,
                  now: datetime | None = None) -> Ticket:
    """Take a ticket that is no part of it out of a proposed or confirmed incident; its area,
    population and counts are recomputed. The row is kept, marked removed (who, when), so the
    detection does not bring the ticket back and confirming does not link it. The timeline of a
    ticket that was linked says so; a proposal's candidate was never told it was part of one."""
    lock(session, incident)
    require_decider(actor)
    _changeable(incident, "移出工单")
    at = now or clock.now()
    ticket = session.scalar(select(Ticket).where(Ticket.number == number.strip()))
    link = ticket and session.scalar(select(IncidentTicket).where(
        IncidentTicket.incident_id == incident.id, IncidentTicket.ticket_id == ticket.id, counted(incident)))
    if ticket is None or link is None:
        raise NotFound(f"工单 {number.strip()} 不在该事件中", code="ticket_not_in_incident")
    others = session.scalar(select(func.count()).select_from(IncidentTicket).where(
        IncidentTicket.incident_id == incident.id, counted(incident), IncidentTicket.id != link.id)) or 0
    if not others:
        raise TransitionNotAllowed("这是该事件的最后一件工单，不能移出；如整个事件有误，请排除",
                                   code="incident_last_ticket")
    if link.linked:
        record_event(session, ticket, "note", actor, reason=f"已移出突发事件「{incident.title}」", at=at,
                     details={"incident_id": incident.id, "removed": True})
    link.linked, link.removed_at, link.removed_by_id = False, at, actor.id
    _record(session, incident, IncidentAction.removed, actor, at, ticket.id)
    session.flush()
    refresh(session, incident, now=at)
    session.flush()
    return ticket


@dataclass
class Listed:
    incident: Incident
    tickets: list[Ticket]
    since_decision: int = 0  # tickets the detection added after the decision (linked, or absorbed)


def listing(session: Session, *, limit: int = 100, tickets_each: int = 10, offset: int = 0,
            state: IncidentState | None = None) -> list[Listed]:
    """Proposed first (newest activity first), then confirmed, then ended and dismissed, with a few
    tickets each; ``state`` keeps those in it (before the limit, so none is missed)."""
    order = case((Incident.state == IncidentState.proposed, 0), (Incident.state == IncidentState.confirmed, 1), else_=2)
    query = select(Incident).order_by(order, Incident.last_ticket_at.desc(), Incident.id.desc())
    if state is not None:
        query = query.where(Incident.state == state)
    incidents = list(session.scalars(query.limit(limit).offset(offset)))
    out = []
    for incident in incidents:
        tickets = tickets_of(session, incident, limit=tickets_each)
        later = 0
        if incident.decided_at is not None:
            later = session.scalar(select(func.count()).select_from(IncidentTicket).where(
                IncidentTicket.incident_id == incident.id, counted(incident),
                IncidentTicket.added_at > incident.decided_at)) or 0
        out.append(Listed(incident, tickets, later))
    return out


def count(session: Session, *, state: IncidentState | None = None) -> int:
    """How many incidents ``listing`` would list without a limit."""
    query = select(func.count()).select_from(Incident)
    if state is not None:
        query = query.where(Incident.state == state)
    return int(session.scalar(query) or 0)


def tickets_of(session: Session, incident: Incident, *, limit: int | None = None) -> list[Ticket]:
    """The incident's tickets that count (see ``summary.counted``), the earliest call first."""
    query = (select(Ticket).join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
             .where(IncidentTicket.incident_id == incident.id, counted(incident)).order_by(Ticket.received_at, Ticket.id))
    return list(session.scalars(query.limit(limit) if limit else query))


def removed_from(session: Session, incident: Incident) -> list[tuple[Ticket, IncidentTicket, str | None]]:
    """The tickets a supervisor took out of the incident (the detection will not bring them back),
    with who did, the latest first."""
    return [tuple(row) for row in session.execute(
        select(Ticket, IncidentTicket, User.display_name).join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
        .outerjoin(User, User.id == IncidentTicket.removed_by_id)
        .where(IncidentTicket.incident_id == incident.id, IncidentTicket.removed_at.is_not(None))
        .order_by(IncidentTicket.removed_at.desc(), IncidentTicket.id.desc()))]


def history(session: Session, incident: Incident) -> list[tuple[IncidentEvent, str | None, str | None]]:
    """Each step people took on the incident, oldest first, with who and the ticket's number."""
    return [tuple(row) for row in session.execute(
        select(IncidentEvent, User.display_name, Ticket.number)
        .outerjoin(User, User.id == IncidentEvent.actor_id).outerjoin(Ticket, Ticket.id == IncidentEvent.ticket_id)
        .where(IncidentEvent.incident_id == incident.id).order_by(IncidentEvent.at, IncidentEvent.id))]


RUNNING = timedelta(hours=24)  # an incident with a call this recent is told to the agents of its area


def area_holds(region_code: str):  # noqa: ANN201 (an SQL condition)
    """Incidents whose area holds ``region_code`` (its village, township, county …) or lies inside
    it (a place given only as a township holds an outage in one of its villages)."""
    areas = [region_code[:n] for n in (12, 9, 6, 4, 2) if len(region_code) >= n]
    return or_(Incident.area_code.in_(areas),
               Incident.area_code.between(region_code, region_code + "9" * (12 - len(region_code))))


def running_at(session: Session, region_code: str, *, now: datetime, within: timedelta = RUNNING) -> list[Incident]:
    """The proposed and confirmed incidents whose area holds ``region_code`` (or lies inside it: a
    call placed only in a township hears of an outage in one of its villages) and that had a call in
    the last ``within``: what an agent taking a call from there should know (confirmed first, newest
    first). A dismissed incident is not an incident."""
    if not region_code:
        return []
    order = case((Incident.state == IncidentState.confirmed, 0), else_=1)
    return list(session.scalars(
        select(Incident).where(Incident.state.in_([IncidentState.proposed, IncidentState.confirmed]),
                               area_holds(region_code), Incident.last_ticket_at > now - within)
        .order_by(order, Incident.last_ticket_at.desc()).limit(3)))


def ticket_ids(session: Session, incident: Incident, *, linked: bool | None = None) -> set[int]:
    q = select(IncidentTicket.ticket_id).where(IncidentTicket.incident_id == incident.id)
    if linked is not None:
        q = q.where(IncidentTicket.linked.is_(linked))
    return set(session.scalars(q))
