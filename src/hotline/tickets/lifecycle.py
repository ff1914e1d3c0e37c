"""The ticket lifecycle: one function per transition, the only code that writes a status.

Each function checks who may act and whether the current status allows the action, changes the
ticket, stores due times, and appends a ``TicketEvent``, all in the caller's transaction (the edge
commits). A refused action raises ``TransitionNotAllowed`` naming the current status and what is
allowed from it. Concurrent changes are caught by the ticket's version column on flush.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.directory import reference
from hotline.directory.models import RegionLevel
from hotline.kit import clock
from hotline.kit.db import insert_now
from hotline.kit.errors import Invalid, TransitionNotAllowed
from hotline.kit.ids import query_code
from hotline.tickets import numbering, sla, validation
from hotline.tickets.deadlines import follow as _follow_deadlines
from hotline.tickets.deadlines import give_back as _give_back
from hotline.tickets.deadlines import note_basis as _note_basis
from hotline.tickets.deadlines import response_due as _response_due
from hotline.tickets.deadlines import rewatch as _rewatch
from hotline.tickets.deadlines import set_due as _set_due
from hotline.tickets.models import (
    Attachment,
    Channel,
    RequestState,
    RequestType,
    Satisfaction,
    Ticket,
    TicketEvent,
    TicketRequest,
    TicketUnit,
    UnitRole,
    UnitTaskStatus,
)
from hotline.tickets.policy import ACTION_ROLES, authorize, unit_task_for
from hotline.tickets.states import ACTION_LABELS, OPEN, STATUS_LABELS, TRANSITIONS, Status, allowed_actions
from hotline.tickets.timeline import iso as _iso
from hotline.tickets.timeline import record_event as _event

MAX_REASON_CHARS = 2000
EXTENSION_STATUSES = (Status.accepted, Status.in_progress, Status.suspended)  # where the lead may ask for 延期


# ---------------------------------------------------------------- helpers


def _refuse(ticket: Ticket, action: str, why: str | None = None, *, actor: User | None,
            not_now: Sequence[str] = ()) -> TransitionNotAllowed:
    """The refusal a person can act on: the current status, why not, and what can be done instead.
    ``not_now`` drops actions the graph allows from this status but the ticket's data rules out.
    The message names only the actions the actor's role may take (a handler is not told to 改派);
    when there are none it names nothing. The details keep every action the status allows."""
    allowed = [a for a in allowed_actions(ticket.status) if a not in not_now]
    # 申请延期 changes no status (so it is not in the graph's list), but is open in these statuses
    also = ["request_extension"] if ticket.status in EXTENSION_STATUSES and action != "request_extension" else []
    theirs = [a for a in allowed + also if actor is None or actor.role in ACTION_ROLES.get(a, frozenset())]
    because = f"（{why}）" if why else ""
    if theirs:
        then = "；当前可执行：" + "、".join(ACTION_LABELS.get(a, a) for a in theirs)
    else:
        then = "" if allowed else "；当前可执行：无（工单已结束）"
    return TransitionNotAllowed(
        f"工单 {ticket.number} 当前状态为「{STATUS_LABELS[ticket.status]}」，不能{ACTION_LABELS.get(action, action)}"
        f"{because}{then}",
        details={"status": ticket.status.value, "action": action, "allowed": allowed},
    )


def _check(ticket: Ticket, action: str, actor: User | None) -> None:
    sources, _ = TRANSITIONS[action]
    if ticket.status not in sources:
        raise _refuse(ticket, action, actor=actor)


def _check_part(ticket: Ticket, action: str, actor: User | None) -> None:
    """A co-handler's part is not in the graph, but it ends with the ticket: a closed, merged or
    archived ticket takes no more signatures or replies (its co-handling parts are not withdrawn)."""
    if ticket.status not in OPEN:
        raise _refuse(ticket, action, actor=actor)


def _move(
    session: Session,
    ticket: Ticket,
    action: str,
    actor: User | None,
    *,
    to: Status | None = None,
    reason: str | None = None,
    unit_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> TicketEvent:
    """Set the status along the allowed graph and record the event. ``to`` is only given for the
    actions that return to a saved status (resume, reject_return)."""
    _check(ticket, action, actor)
    target = TRANSITIONS[action][1] or to
    if target is None:
        raise Invalid(f"{ACTION_LABELS[action]}缺少目标状态")
    before = ticket.status
    ticket.status = target
    ticket.updated_at = clock.now()
    _rewatch(ticket, reference.snapshot(session))
    return _event(
        session, ticket, action, actor, from_status=before, to_status=target, reason=reason, unit_id=unit_id,
        details=details,
    )


def _reason(value: str | None, *, required: bool, label: str = "理由") -> str | None:
    return validation.require_text(value, "reason", label, max_chars=MAX_REASON_CHARS, required=required)


# ---------------------------------------------------------------- intake


def register(
    session: Session,
    *,
    actor: User | None,
    channel: Channel | str,
    kind: str,
    category_code: str,
    urgency: str,
    region_code: str,
    content: str,
    title: str | None = None,
    caller_name: str | None = None,
    caller_phone: str | None = None,
    caller_confidential: bool = False,
    caller_anonymous: bool = False,
    address: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    attachments: Sequence[dict[str, Any]] = (),
    received_at: datetime | None = None,
    deadlines_from: datetime | None = None,
    api_token_id: int | None = None,
    settled_at_once: bool = False,
) -> Ticket:
    """受理: create the ticket with its number, query code and dispatch deadline.

    ``received_at`` is when the citizen's request came in (the record, the number's day);
    the dispatch deadline counts from ``deadlines_from`` when given, else from ``received_at``:
    an import registers today a letter received days ago, and the centre's clock starts when the
    ticket enters the system, not overdue on arrival. ``api_token_id`` is the API token it was
    submitted with (``POST /api/v1/tickets``, an Open311 client's key), recorded on the ticket and
    its 受理 event: an Open311 client's queries see only its own key's requests. ``settled_at_once``:
    the caller registering it answers it directly or does not accept it in the same transaction
    (:func:`answer_directly`, :func:`refuse`), so nobody is sent anywhere and the caller's county is
    place enough (a consultation, 社保卡 lost, has no place of its own)."""
    authorize(actor, "register", None)
    snap = reference.snapshot(session)
    content = validation.require_text(content, "content", "诉求内容", max_chars=validation.MAX_CONTENT_CHARS)
    title = validation.require_text(title, "title", "标题", max_chars=validation.MAX_TITLE_CHARS, required=False)
    validation.check_kind(kind)
    urgency_value = validation.check_urgency(urgency)
    validation.check_category(snap, category_code)
    validation.check_region(snap, region_code,
                            broadest=RegionLevel.county if settled_at_once else RegionLevel.township)
    validation.check_coordinates(latitude, longitude)
    try:
        channel = Channel(channel)
    except ValueError:
        raise Invalid(f"未知渠道 {channel}", code="unknown_channel", details={"field": "channel"}) from None
    phone = validation.normalize_phone(caller_phone)
    name = validation.require_text(caller_name, "caller_name", "来电人姓名", max_chars=60, required=False)
    validation.check_caller(name, phone, anonymous=caller_anonymous)
    received = received_at or clock.now()
    if received.tzinfo is None:
        raise Invalid("受理时间须带时区", code="invalid_datetime", details={"field": "received_at"})
    validation.check_received(received)
    now = clock.now()
    start = deadlines_from or received
    if start.tzinfo is None:
        raise Invalid("时限起算时间须带时区", code="invalid_datetime", details={"field": "deadlines_from"})
    files = [_attachment(meta, now) for meta in attachments]  # validated before a number is taken
    ticket = Ticket(
        number=numbering.next_number(session, clock.local(received).date()),
        query_code=query_code(),
        channel=channel,
        kind=kind,
        category_code=category_code,
        urgency=urgency_value,
        status=Status.registered,
        caller_name=name,
        caller_phone=phone,
        caller_confidential=bool(caller_confidential),
        caller_anonymous=bool(caller_anonymous),
        region_code=region_code,
        address=validation.require_text(address, "address", "地址", max_chars=200, required=False),
        latitude=latitude,
        longitude=longitude,
        title=title or _title_from(content),
        content=content,
        received_at=received,
        registered_by_id=actor.id if actor is not None else None,
        api_token_id=api_token_id,
        due_basis={},
        suspended_seconds=0,
        extension_count=0,
        dispatch_count=0,
        reopen_count=0,
        callback_attempts=0,
        updated_at=now,
        version=1,
        units=[],  # initialised collections: rendering the new ticket needs no extra query
        attachments=[],
    )
    _set_due(ticket, "dispatch", start, snap)
    _rewatch(ticket, snap)
    insert_now(session, ticket)  # intake is the busiest write: one Core INSERT, no unit of work
    ticket.attachments.extend(files)
    _event(session, ticket, "register", actor, to_status=Status.registered, at=received if received < now else now,
           details={"channel": channel.value, "dispatch_due_at": _iso(ticket.dispatch_due_at),
                    **({"due_warning": ticket.due_warning} if ticket.due_warning else {}),
                    **({"api_token_id": api_token_id} if api_token_id is not None else {})}, fast=True)
    if files:
        session.flush()
    return ticket


def _title_from(content: str) -> str:
    first = content.replace("\n", " ").strip()
    return first[:30] + ("…" if len(first) > 30 else "")


def _attachment(meta: dict[str, Any], now: datetime) -> Attachment:
    filename = validation.require_text(meta.get("filename"), "attachments", "附件文件名", max_chars=200)
    size = meta.get("size")
    if not isinstance(size, int) or size < 0 or size > 50 * 1024 * 1024:
        raise Invalid("附件大小须为 0–50MB 的整数字节数", code="invalid_attachment", details={"field": "attachments"})
    return Attachment(
        filename=filename,
        content_type=str(meta.get("content_type") or "application/octet-stream")[:100],
        size=size,
        sha256=meta.get("sha256"),
        url=meta.get("url"),
        uploaded_at=now,
    )


def answer_directly(session: Session, ticket: Ticket, *, actor: User | None, answer: str) -> TicketEvent:
    """直接答复: a consultation answered on the spot (e.g. from the knowledge base) closes at once."""
    authorize(actor, "answer_directly", ticket)
    text = validation.require_text(answer, "answer", "答复内容", max_chars=validation.MAX_CONTENT_CHARS)
    _check(ticket, "answer_directly", actor)
    ticket.direct_answer = text
    ticket.closed_at = clock.now()
    ticket.close_reason = "answered_directly"
    return _move(session, ticket, "answer_directly", actor, details={"answer": text})


def hand_off(session: Session, ticket: Ticket, *, actor: User | None, to: str, note: str | None = None) -> TicketEvent:
    """转110/119/120/122: emergencies belong to the emergency services."""
    authorize(actor, "hand_off", ticket)
    if to not in validation.EMERGENCY_SERVICES:
        raise Invalid(f"只能转 110、119、120 或 122，收到 {to!r}", code="invalid_handoff", details={"field": "to"})
    _check(ticket, "hand_off", actor)
    ticket.handoff_to = to
    ticket.closed_at = clock.now()
    ticket.close_reason = f"handed_off_{to}"
    return _move(session, ticket, "hand_off", actor, reason=_reason(note, required=False),
                 details={"to": to, "service": validation.EMERGENCY_SERVICES[to]})


def refuse(session: Session, ticket: Ticket, *, actor: User | None, reason: str) -> TicketEvent:
    """不予受理, always with the reason given to the caller."""
    authorize(actor, "refuse", ticket)
    text = _reason(reason, required=True, label="不予受理理由")
    _check(ticket, "refuse", actor)
    ticket.refusal_reason = text
    ticket.closed_at = clock.now()
    ticket.close_reason = "refused"
    return _move(session, ticket, "refuse", actor, reason=text)


# ---------------------------------------------------------------- dispatch and return


def _assign(session: Session, ticket: Ticket, lead_unit_id: int, co_unit_ids: Sequence[int], *,
            ended: str | None = None) -> dict[str, Any]:
    """Give the ticket to its units for a new round; ``ended`` says why the previous round's orders
    were withdrawn (returned, reopened), which the assessment needs."""
    snap = reference.snapshot(session)
    validation.check_unit(snap, lead_unit_id, "lead_unit_id")
    co = list(dict.fromkeys(int(u) for u in co_unit_ids))
    if lead_unit_id in co:
        raise Invalid("主办单位不能同时是协办单位", code="invalid_units", details={"field": "co_unit_ids"})
    for unit_id in co:
        validation.check_unit(snap, unit_id, "co_unit_ids")
    now = clock.now()
    _withdraw_parts(session, ticket, ended)
    ticket.units.append(TicketUnit(unit_id=lead_unit_id, role=UnitRole.lead, status=UnitTaskStatus.dispatched,
                                   dispatched_at=now))
    for unit_id in co:
        ticket.units.append(TicketUnit(unit_id=unit_id, role=UnitRole.co, status=UnitTaskStatus.dispatched,
                                       dispatched_at=now))
    ticket.lead_unit_id = lead_unit_id
    # The dispatch stage is met once, by the first dispatch; later rounds (改派, 重办) start the
    # unit's clocks (each part keeps its own dispatched_at) but must not make it look late.
    if ticket.dispatched_at is None:
        ticket.dispatched_at = now
    ticket.dispatch_count += 1
    ticket.accepted_at = ticket.contacted_at = ticket.replied_at = None
    ticket.reply_text = None
    for stage in ("accept", "contact", "reply"):
        _set_due(ticket, stage, now, snap)
    for task in ticket.active_units():
        task.response_due_at = _response_due(ticket, task)
    return {
        "lead_unit_id": lead_unit_id,
        "lead_unit": snap.units[lead_unit_id][1],
        "co_unit_ids": co,
        "co_units": [snap.units[u][1] for u in co],
        "accept_due_at": _iso(ticket.accept_due_at),
        "contact_due_at": _iso(ticket.contact_due_at),
        "reply_due_at": _iso(ticket.reply_due_at),
    }


def _on_time(at: datetime, due: datetime | None) -> bool:
    return due is None or at <= due


def _withdraw_parts(session: Session, ticket: Ticket, ended: str | None) -> None:
    """Take the ticket away from its current units (re-dispatch, reopen, merge)."""
    for task in ticket.active_units():
        task.status = UnitTaskStatus.withdrawn
        task.ended = ended
    _lapse_requests(session, ticket, "承办单位已变更")


REQUEST_LABELS = {RequestType.return_: "退单", RequestType.extension: "延期"}


def _lapse_requests(session: Session, ticket: Ticket, why: str) -> None:
    """Pending requests die with the round they were made in: an extension asked for by a unit that
    no longer has the ticket must neither move the new unit's deadline nor block its own request, and
    one whose deadline stopped running (the reply is in) has nothing left to extend. Each is decided
    as rejected by the platform, with the reason on the request and on the timeline, so it leaves
    the centre's list of requests waiting for a decision."""
    pending = session.scalars(select(TicketRequest).where(TicketRequest.ticket_id == ticket.id,
                                                          TicketRequest.state == RequestState.pending)).all()
    for request in pending:
        note = f"{why}，{REQUEST_LABELS[request.type]}申请自动撤销"
        _decide(request, None, RequestState.rejected, note)
        _event(session, ticket, "note", None, reason=note, unit_id=request.unit_id,
               details={"request_id": request.id, "request_type": request.type.value, "lapsed": True})


def dispatch(
    session: Session, ticket: Ticket, *, actor: User | None, lead_unit_id: int, co_unit_ids: Sequence[int] = (),
    note: str | None = None,
) -> TicketEvent:
    """派单 to a lead unit and any co-handling units; starts the accept, contact and reply clocks."""
    authorize(actor, "dispatch", ticket)
    _check(ticket, "dispatch", actor)
    details = _assign(session, ticket, lead_unit_id, co_unit_ids)
    return _move(session, ticket, "dispatch", actor, reason=_reason(note, required=False), details=details)


def _pending_request(session: Session, ticket: Ticket, kind: RequestType) -> TicketRequest | None:
    return session.scalar(
        select(TicketRequest).where(
            TicketRequest.ticket_id == ticket.id, TicketRequest.type == kind, TicketRequest.state == RequestState.pending
        )
    )


def _decide(request: TicketRequest | None, actor: User | None, state: RequestState, note: str | None) -> None:
    if request is None:
        return
    request.state = state
    request.decided_by_id = actor.id if actor is not None else None
    request.decided_at = clock.now()
    request.decision_note = note


def request_return(session: Session, ticket: Ticket, *, actor: User | None, reason: str) -> TicketEvent:
    """退单申请: the lead unit says the ticket is not theirs; the centre reviews it."""
    task = authorize(actor, "request_return", ticket)
    text = _reason(reason, required=True, label="退单理由")
    _check(ticket, "request_return", actor)
    unit_id = task.unit_id if task else ticket.lead_unit_id
    req = TicketRequest(ticket_id=ticket.id, type=RequestType.return_, state=RequestState.pending, unit_id=unit_id,
                        requested_by_id=actor.id if actor else None, requested_at=clock.now(), reason=text)
    session.add(req)
    ticket.status_before = ticket.status
    return _move(session, ticket, "request_return", actor, reason=text, unit_id=unit_id)


def redispatch(
    session: Session, ticket: Ticket, *, actor: User | None, lead_unit_id: int, co_unit_ids: Sequence[int] = (),
    note: str | None = None,
) -> TicketEvent:
    """改派: the return is approved and the ticket goes to another unit with fresh clocks."""
    authorize(actor, "redispatch", ticket)
    _check(ticket, "redispatch", actor)
    if lead_unit_id == ticket.lead_unit_id:
        raise Invalid("改派须选择另一个主办单位；若退单理由不成立请驳回退单", code="same_unit",
                      details={"field": "lead_unit_id"})
    _decide(_pending_request(session, ticket, RequestType.return_), actor, RequestState.approved, note)
    previous = ticket.lead_unit_id
    details = _assign(session, ticket, lead_unit_id, co_unit_ids, ended="returned")
    details["previous_lead_unit_id"] = previous
    ticket.status_before = None
    return _move(session, ticket, "redispatch", actor, reason=_reason(note, required=False), details=details)


def reject_return(session: Session, ticket: Ticket, *, actor: User | None, reason: str) -> TicketEvent:
    """驳回退单: the unit keeps the ticket; the status returns to where it was, and the unit's
    deadlines still running then move later by the time the return waited for review (no clock
    runs in 退单待审, ``sla.RUNNING``: the unit could not act while its return was pending), as a
    pause, on the timeline after the rejection; those already passed when it asked stay overdue."""
    authorize(actor, "reject_return", ticket)
    text = _reason(reason, required=True, label="驳回理由")
    _check(ticket, "reject_return", actor)
    request = _pending_request(session, ticket, RequestType.return_)
    _decide(request, actor, RequestState.rejected, text)
    back = ticket.status_before or Status.dispatched
    ticket.status_before = None
    now = clock.now()
    since = request.requested_at if request is not None else now
    # A deadline already passed when the return was asked for stays as it was: the review did not
    # make the unit late, and moving it would restart a ladder already climbed (a second 升级督办).
    stages = [stage for stage, running_in in sla.RUNNING.items() if back.value in running_in
              and (getattr(ticket, f"{stage}_due_at") or since) > since and sla.done_at(ticket, stage) is None]
    moved = _give_back(ticket, stages, since, now, reference.snapshot(session))
    event = _move(session, ticket, "reject_return", actor, to=back, reason=text)
    if moved:
        moves = "，".join(f"{sla.STAGE_LABELS[key.removesuffix('_due_at')]}时限顺延至"
                         f"{clock.deadline_text(datetime.fromisoformat(m['to']), words=True, gap=' ')}"
                         for key, m in moved.items())
        _event(session, ticket, "recompute_due", actor, unit_id=ticket.lead_unit_id,
               reason=f"退单待审 {clock.span_text(now - since)}，期间承办单位时限不计：{moves}",
               details={**moved, "review_seconds": int((now - since).total_seconds())})
    return event


# ---------------------------------------------------------------- the unit's work


def accept(session: Session, ticket: Ticket, *, actor: User | None, unit_id: int | None = None) -> TicketEvent:
    """签收. The lead unit's acceptance moves the ticket; a co-handler's is recorded on its part."""
    task = unit_task_for(actor, ticket, unit_id)
    if task is not None and task.role == UnitRole.co:
        authorize(actor, "accept_part", ticket)
        _check_part(ticket, "accept_part", actor)
        if task.status != UnitTaskStatus.dispatched:
            raise TransitionNotAllowed("本单位已签收该工单", details={"status": ticket.status.value})
        task.status = UnitTaskStatus.accepted
        task.accepted_at = clock.now()
        task.accepted_on_time = _on_time(task.accepted_at, ticket.accept_due_at)
        ticket.updated_at = clock.now()
        return _event(session, ticket, "accept_part", actor, unit_id=task.unit_id)
    authorize(actor, "accept", ticket)
    _check(ticket, "accept", actor)
    lead = ticket.lead_task()
    now = clock.now()
    on_time = _on_time(now, ticket.accept_due_at)
    if lead is not None:
        lead.status = UnitTaskStatus.accepted
        lead.accepted_at = now
        lead.accepted_on_time = on_time
    ticket.accepted_at = now
    return _move(session, ticket, "accept", actor, unit_id=ticket.lead_unit_id, details={"on_time": on_time})


def record_contact(session: Session, ticket: Ticket, *, actor: User | None, note: str | None = None) -> TicketEvent:
    """The unit has reached the caller (首次联系); the first contact stops the contact clock."""
    authorize(actor, "record_contact", ticket)
    _check(ticket, "record_contact", actor)
    now = clock.now()
    first = ticket.contacted_at is None
    on_time = _on_time(now, ticket.contact_due_at)
    if first:
        ticket.contacted_at = now
        lead = ticket.lead_task()
        if lead is not None:
            lead.contacted_on_time = on_time
    return _move(session, ticket, "record_contact", actor, reason=_reason(note, required=False),
                 unit_id=ticket.lead_unit_id, details={"first": first, "on_time": on_time})


def suspend(session: Session, ticket: Ticket, *, actor: User | None, reason: str) -> TicketEvent:
    """挂起: the clock stops while the unit waits on the caller."""
    authorize(actor, "suspend", ticket)
    text = _reason(reason, required=True, label="挂起理由")
    _check(ticket, "suspend", actor)
    ticket.status_before = ticket.status
    ticket.suspended_at = clock.now()
    return _move(session, ticket, "suspend", actor, reason=text, unit_id=ticket.lead_unit_id)


def resume(session: Session, ticket: Ticket, *, actor: User | None, note: str | None = None) -> TicketEvent:
    """恢复: the paused time is added to the deadlines still running."""
    authorize(actor, "resume", ticket)
    _check(ticket, "resume", actor)
    snap = reference.snapshot(session)
    resumed = clock.now()
    since = ticket.suspended_at or resumed
    paused = resumed - since
    moved: dict[str, Any] = {"paused_seconds": int(paused.total_seconds())}
    running = ["reply"] + (["contact"] if ticket.contacted_at is None else [])
    for stage in running:
        old = getattr(ticket, f"{stage}_due_at")
        unit = (ticket.due_basis or {}).get(stage, {}).get("unit", "hours")
        new, warning = sla.shift_for_pause(old, since, resumed, unit, snap.calendar, clock.tz())
        setattr(ticket, f"{stage}_due_at", new)
        _note_basis(ticket, stage, pause=[since.isoformat(), resumed.isoformat()])
        if warning:
            _note_basis(ticket, stage, provisional=True)
        ticket.due_warning = warning or ticket.due_warning
        moved[f"{stage}_due_at"] = {"from": _iso(old), "to": _iso(new)}
    _follow_deadlines(ticket, moved)
    ticket.suspended_seconds += int(paused.total_seconds())
    ticket.suspended_at = None
    back = ticket.status_before or Status.accepted
    ticket.status_before = None
    return _move(session, ticket, "resume", actor, to=back, reason=_reason(note, required=False),
                 unit_id=ticket.lead_unit_id, details=moved)


def request_extension(
    session: Session, ticket: Ticket, *, actor: User | None, amount: int, unit: str = "working_days", reason: str
) -> TicketEvent:
    """延期申请 by the lead unit; work goes on while the centre decides."""
    task = authorize(actor, "request_extension", ticket)
    text = _reason(reason, required=True, label="延期理由")
    if ticket.status not in EXTENSION_STATUSES:
        raise _refuse(ticket, "request_extension", actor=actor)
    if not isinstance(amount, int) or not 1 <= amount <= (720 if unit == "hours" else 60):
        raise Invalid("延期时长须为 1–60 天（或 1–720 小时）", code="invalid_amount", details={"field": "amount"})
    if unit not in ("hours", "days", "working_days"):
        raise Invalid("延期单位须为 hours、days 或 working_days", code="invalid_unit", details={"field": "unit"})
    if _pending_request(session, ticket, RequestType.extension) is not None:
        raise TransitionNotAllowed("该工单已有待审批的延期申请", details={"status": ticket.status.value})
    unit_id = task.unit_id if task else ticket.lead_unit_id
    session.add(TicketRequest(ticket_id=ticket.id, type=RequestType.extension, state=RequestState.pending,
                              unit_id=unit_id, requested_by_id=actor.id if actor else None,
                              requested_at=clock.now(), reason=text, amount=amount, amount_unit=unit))
    ticket.updated_at = clock.now()
    return _event(session, ticket, "request_extension", actor, reason=text, unit_id=unit_id,
                  details={"amount": amount, "unit": unit})


def approve_extension(
    session: Session, ticket: Ticket, *, actor: User | None, amount: int | None = None, note: str | None = None
) -> TicketEvent:
    """延期审批通过: the reply deadline moves by the approved amount (the request's, unless changed)."""
    authorize(actor, "approve_extension", ticket)
    req = _pending_request(session, ticket, RequestType.extension)
    if req is None:
        raise TransitionNotAllowed("该工单没有待审批的延期申请", details={"status": ticket.status.value})
    if ticket.status not in (Status.accepted, Status.in_progress, Status.suspended, Status.return_requested):
        # The reply is in (or the ticket moved on): there is no running deadline left to extend.
        raise _refuse(ticket, "approve_extension", "办理时限已不在计时中", actor=actor)
    granted = req.amount if amount is None else amount
    if not isinstance(granted, int) or granted < 1:
        raise Invalid("批准的延期时长须为正整数", code="invalid_amount", details={"field": "amount"})
    snap = reference.snapshot(session)
    old = ticket.reply_due_at or clock.now()
    due = sla.add_limit(old, sla.Limit(granted, req.amount_unit or "working_days"), snap.calendar, clock.tz())
    ticket.reply_due_at = due.at
    _note_basis(ticket, "reply", extension=[granted, req.amount_unit or "working_days"])
    if due.warning:
        ticket.due_warning = due.warning
        _note_basis(ticket, "reply", provisional=True)
    ticket.extension_count += 1
    ticket.updated_at = clock.now()
    _rewatch(ticket, snap)
    _decide(req, actor, RequestState.approved, note)
    return _event(session, ticket, "approve_extension", actor, reason=note, unit_id=req.unit_id,
                  details={"amount": granted, "unit": req.amount_unit, "reply_due_at": {"from": _iso(old),
                                                                                         "to": _iso(due.at)}})


def refuse_extension(session: Session, ticket: Ticket, *, actor: User | None, reason: str) -> TicketEvent:
    """延期不予批准: the deadline stays."""
    authorize(actor, "refuse_extension", ticket)
    text = _reason(reason, required=True, label="不予延期理由")
    req = _pending_request(session, ticket, RequestType.extension)
    if req is None:
        raise TransitionNotAllowed("该工单没有待审批的延期申请", details={"status": ticket.status.value})
    _decide(req, actor, RequestState.rejected, text)
    ticket.updated_at = clock.now()
    return _event(session, ticket, "refuse_extension", actor, reason=text, unit_id=req.unit_id)


def reply(
    session: Session, ticket: Ticket, *, actor: User | None, text: str, unit_id: int | None = None
) -> TicketEvent:
    """反馈: the lead unit's account of what it did goes to the centre for review; a co-handler's
    reply is recorded on its part."""
    body = validation.require_text(text, "text", "办理结果", max_chars=validation.MAX_CONTENT_CHARS)
    task = unit_task_for(actor, ticket, unit_id)
    now = clock.now()
    if task is not None and task.role == UnitRole.co:
        authorize(actor, "reply_part", ticket)
        _check_part(ticket, "reply_part", actor)
        if task.status == UnitTaskStatus.dispatched:
            raise TransitionNotAllowed("请先签收再提交协办反馈", details={"status": ticket.status.value})
        task.status, task.replied_at, task.reply_text = UnitTaskStatus.replied, now, body
        task.replied_on_time = _on_time(now, ticket.reply_due_at)
        ticket.updated_at = now
        return _event(session, ticket, "reply_part", actor, unit_id=task.unit_id, details={"text": body})
    authorize(actor, "reply", ticket)
    _check(ticket, "reply", actor)
    lead = ticket.lead_task()
    if lead is not None:
        lead.status, lead.replied_at, lead.reply_text = UnitTaskStatus.replied, now, body
        lead.replied_on_time = _on_time(now, ticket.reply_due_at)
    ticket.replied_at = now
    ticket.reply_text = body
    pending_co = [u.unit_id for u in ticket.active_units() if u.role == UnitRole.co and u.status != UnitTaskStatus.replied]
    event = _move(session, ticket, "reply", actor, unit_id=ticket.lead_unit_id,
                  details={"text": body, "on_time": _on_time(now, ticket.reply_due_at),
                           "co_units_without_reply": pending_co})
    _lapse_requests(session, ticket, "已反馈")  # the reply deadline has stopped: nothing left to extend
    return event


# ---------------------------------------------------------------- review, callback, close


def accept_reply(session: Session, ticket: Ticket, *, actor: User | None, note: str | None = None) -> TicketEvent:
    """审核通过: the reply is good enough to ask the caller about."""
    authorize(actor, "accept_reply", ticket)
    return _move(session, ticket, "accept_reply", actor, reason=_reason(note, required=False))


def send_back_reply(session: Session, ticket: Ticket, *, actor: User | None, reason: str) -> TicketEvent:
    """审核退回: the reply is not good enough; the unit works on (its reply deadline is unchanged)."""
    authorize(actor, "send_back_reply", ticket)
    text = _reason(reason, required=True, label="退回理由")
    _check(ticket, "send_back_reply", actor)
    lead = ticket.lead_task()
    if lead is not None:
        lead.status = UnitTaskStatus.accepted
    return _move(session, ticket, "send_back_reply", actor, reason=text)


def record_callback(
    session: Session,
    ticket: Ticket,
    *,
    actor: User | None,
    reached: bool,
    resolved: bool | None = None,
    satisfaction: str | None = None,
    comment: str | None = None,
) -> TicketEvent:
    """回访. Not reached: the attempt is counted and the ticket waits for the next one. Reached:
    the caller's verdict (resolved? satisfied?) is stored and the ticket waits to close or reopen."""
    authorize(actor, "record_callback", ticket)
    words = validation.require_text(comment, "comment", "回访记录", max_chars=validation.MAX_CONTENT_CHARS,
                                    required=False)
    _check(ticket, "record_callback", actor)
    if not reached:
        ticket.callback_attempts += 1
        ticket.updated_at = clock.now()
        return _event(session, ticket, "callback_attempt", actor, reason=words,
                      details={"attempt": ticket.callback_attempts})
    if resolved is None:
        raise Invalid("请记录来电人反映的问题是否已解决", code="missing_field", details={"field": "resolved"})
    verdict = validation.check_satisfaction(satisfaction)
    ticket.callback_attempts += 1
    ticket.callback_at = clock.now()
    ticket.resolved = bool(resolved)
    ticket.satisfaction = verdict
    ticket.callback_comment = words
    for task in ticket.active_units():  # the verdict on this round's answer, kept with its orders
        task.callback_at, task.resolved, task.satisfaction = ticket.callback_at, ticket.resolved, verdict
    return _move(session, ticket, "record_callback", actor, reason=words,
                 details={"resolved": bool(resolved), "satisfaction": verdict.value})


def callback_negative(ticket: Ticket) -> bool:
    return ticket.resolved is False or ticket.satisfaction == Satisfaction.dissatisfied


def close(session: Session, ticket: Ticket, *, actor: User | None, reason: str | None = None) -> TicketEvent:
    """办结. After a good callback; after a bad one only with the centre's stated reason; a caller
    who could not be reached after at least one attempt closes as not reached, with a reason."""
    authorize(actor, "close", ticket)
    _check(ticket, "close", actor)
    text = _reason(reason, required=False)
    if ticket.status == Status.callback_pending:
        if ticket.callback_attempts < 1:
            raise _refuse(ticket, "close", "尚未回访：至少尝试回访一次后才能以「联系不上」办结", actor=actor, not_now=("close",))
        if not text:
            raise Invalid("以「联系不上」办结须说明理由", code="empty", details={"field": "reason"})
        ticket.satisfaction = Satisfaction.not_reached
        ticket.close_reason = "not_reached"
    else:
        if callback_negative(ticket) and not text:
            raise Invalid("回访结果为未解决或不满意：请重办，或说明直接办结的理由", code="empty",
                          details={"field": "reason"})
        ticket.close_reason = "callback"
    ticket.closed_at = clock.now()
    _lapse_requests(session, ticket, "工单已办结")
    return _move(session, ticket, "close", actor, reason=text,
                 details={"satisfaction": ticket.satisfaction.value if ticket.satisfaction else None,
                          "resolved": ticket.resolved})


def reopen(session: Session, ticket: Ticket, *, actor: User | None, reason: str | None = None) -> TicketEvent:
    """重办: an unresolved or unsatisfied callback sends the ticket back to the same units, with the
    caller's words, and fresh deadlines."""
    authorize(actor, "reopen", ticket)
    _check(ticket, "reopen", actor)
    if not callback_negative(ticket):
        raise _refuse(ticket, "reopen", "回访结果为已解决且满意", actor=actor, not_now=("reopen",))
    words = _reason(reason, required=False) or ticket.callback_comment or "回访不满意"
    lead = ticket.lead_unit_id
    co = [u.unit_id for u in ticket.active_units() if u.role == UnitRole.co]
    if lead is None:
        raise Invalid("工单没有主办单位，无法重办", code="no_unit")
    details = _assign(session, ticket, lead, co, ended="reopened")
    details.update({"previous_satisfaction": ticket.satisfaction.value if ticket.satisfaction else None,
                    "previous_resolved": ticket.resolved, "caller_words": ticket.callback_comment})
    ticket.reopen_count += 1
    ticket.resolved = None
    ticket.satisfaction = None
    ticket.callback_at = None
    ticket.callback_comment = None
    ticket.callback_attempts = 0
    return _move(session, ticket, "reopen", actor, reason=words, details=details)


def merge(session: Session, ticket: Ticket, *, actor: User | None, master: Ticket, note: str | None = None) -> TicketEvent:
    """并单: a duplicate is attached to a master ticket and follows it from then on."""
    authorize(actor, "merge", ticket)
    _check(ticket, "merge", actor)
    if master.id == ticket.id:
        raise Invalid("不能并入自身", code="invalid_master", details={"field": "master_id"})
    if master.status not in (Status.registered, Status.dispatched, Status.accepted, Status.in_progress,
                             Status.suspended, Status.return_requested, Status.replied):
        raise Invalid(f"主工单 {master.number} 状态为「{STATUS_LABELS[master.status]}」，只能并入办理中的工单",
                      code="invalid_master", details={"field": "master_id"})
    _withdraw_parts(session, ticket, "merged")
    ticket.master_id = master.id
    ticket.closed_at = clock.now()
    ticket.close_reason = "merged"
    master.updated_at = clock.now()
    _event(session, master, "note", actor, reason=f"并入重复工单 {ticket.number}",
           details={"merged_ticket_id": ticket.id, "merged_number": ticket.number})
    # Its own duplicates follow it to the new master, so no caller is left two steps from the
    # ticket being handled.
    for duplicate in session.scalars(select(Ticket).where(Ticket.master_id == ticket.id).order_by(Ticket.id)):
        duplicate.master_id = master.id
        _event(session, duplicate, "note", actor, reason=f"原主工单 {ticket.number} 并入 {master.number}，随之改随 {master.number}",
               details={"master_id": master.id, "master_number": master.number})
        _event(session, master, "note", actor, reason=f"并入重复工单 {duplicate.number}（原随 {ticket.number}）",
               details={"merged_ticket_id": duplicate.id, "merged_number": duplicate.number})
    session.flush()  # the duplicates' changes written now, not by whatever reads next
    return _move(session, ticket, "merge", actor, reason=_reason(note, required=False),
                 details={"master_id": master.id, "master_number": master.number})


def archive(session: Session, ticket: Ticket, *, actor: User | None) -> TicketEvent:
    """归档: closed and frozen."""
    authorize(actor, "archive", ticket)
    _check(ticket, "archive", actor)
    ticket.archived_at = clock.now()
    return _move(session, ticket, "archive", actor)

