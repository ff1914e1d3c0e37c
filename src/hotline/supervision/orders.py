"""Urging (催办) and supervision orders (督办单): issued by supervisors or the escalation ladder,
answered by the unit, swept when their own deadline passes unanswered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.calendar import WorkCalendar
from hotline.kit.db import Database, insert_now
from hotline.kit.errors import Conflict, Invalid, NotFound, PermissionDenied, TransitionNotAllowed
from hotline.notify import recipients
from hotline.supervision.models import ORDER_LEVEL_LABELS, OrderLevel, OrderState, SupervisionOrder
from hotline.tickets import validation
from hotline.tickets.deadlines import recompute_after_holidays
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.policy import authorize
from hotline.tickets.sla import STAGE_LABELS, running_stages
from hotline.tickets.states import OPEN, STATUS_LABELS, Status
from hotline.tickets.timeline import record_event

MAX_NOTE = 2000
URGE_GAP = timedelta(hours=1)  # a second 催办 of the same unit within this is refused
LEVEL_RANK = {OrderLevel.general: 0, OrderLevel.key: 1, OrderLevel.listed: 2}


def _local(moment: datetime) -> str:
    local = clock.local(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _deadline(moment: datetime) -> str:
    return clock.deadline_text(moment, words=True, gap=" ")


def _require_unit(ticket: Ticket, action: str) -> int:
    if ticket.status not in OPEN or ticket.lead_unit_id is None:
        raise TransitionNotAllowed(
            f"工单 {ticket.number} 当前状态为「{STATUS_LABELS[ticket.status]}」，没有正在办理的承办单位，不能{action}",
            details={"status": ticket.status.value, "action": action})
    return ticket.lead_unit_id


# Open tickets whose next step is the centre's, not the unit's: urging the unit would press it for
# nothing (it has replied, or asked to hand the ticket back).
WAITING_ON_CENTRE = {
    Status.return_requested: "承办单位已申请退单，正等待中心审核",
    Status.replied: "承办单位已提交办理结果，正等待中心审核",
    Status.callback_pending: "承办单位已办结反馈，正等待回访",
    Status.callback_done: "已回访，正等待中心办结",
}


def _lock(session: Session, row: Ticket | SupervisionOrder) -> None:
    """Hold ``row`` until the transaction ends, read afresh (``SELECT … FOR UPDATE``): a second 催办,
    督办 or 答复 sent at the same moment (another tab, another web process) waits here, then finds
    what the first one wrote and is refused. SQLite runs one writer at a time already. Changes not
    yet flushed are flushed first, so the fresh read does not drop them."""
    session.flush()
    session.refresh(row, with_for_update=True)


@dataclass(frozen=True)
class RecentUrge:
    """A 催办 of a ticket's lead unit within ``URGE_GAP``: another one now is refused."""

    at: datetime
    by: str  # the person's name, or 系统 for the escalation ladder's

    @property
    def text(self) -> str:
        """What a page shows instead of the 催办 button: 「已催办 07:11（系统）」."""
        return f"已催办 {clock.local(self.at):%H:%M}（{self.by}）"


def recent_urges(session: Session, units: dict[int, int], now: datetime) -> dict[int, RecentUrge]:
    """The latest 催办 (by a person or the ladder) of each ticket's unit (``units``: ticket id ->
    unit id) within ``URGE_GAP`` of ``now``, by ticket id. The one rule for both: :func:`urge`
    refuses a 催办 of a ticket found here, and the pages show this instead of the button."""
    if not units:
        return {}
    found: dict[int, RecentUrge] = {}
    rows = session.execute(select(TicketEvent.ticket_id, TicketEvent.unit_id, TicketEvent.at, TicketEvent.actor_name)
                           .where(TicketEvent.ticket_id.in_(list(units)), TicketEvent.action == "urge",
                                  TicketEvent.at > now - URGE_GAP)
                           .order_by(TicketEvent.at.desc(), TicketEvent.id.desc()))
    for ticket_id, unit_id, at, by in rows:
        if unit_id == units[ticket_id] and ticket_id not in found:
            found[ticket_id] = RecentUrge(at=at, by=by)
    return found


def urge(session: Session, ticket: Ticket, *, actor: User | None, note: str | None = None) -> Any:
    """催办 by hand: the lead unit's staff are told at once (urgent: no quiet hours), in words that
    fit the ticket: 「…已超期，现予催办」 for the stages past their deadline (``unit.urge``, as the
    ladder's own urge), else the nearest running stage's deadline and the time left
    (``unit.urge_early``). The event's details say how many staff were told (0: the unit has no
    accounts)."""
    _lock(session, ticket)
    authorize(actor, "urge", ticket)
    text = validation.require_text(note, "note", "催办意见", max_chars=MAX_NOTE, required=False)
    unit_id = _require_unit(ticket, "催办")
    if ticket.status in WAITING_ON_CENTRE:
        raise TransitionNotAllowed(
            f"工单 {ticket.number} 当前状态为「{STATUS_LABELS[ticket.status]}」：{WAITING_ON_CENTRE[ticket.status]}，"
            "现在等待的是中心而不是承办单位，不能催办", details={"status": ticket.status.value, "action": "催办"})
    now = clock.now()
    last = recent_urges(session, {ticket.id: unit_id}, now).get(ticket.id)
    if last is not None:
        raise Conflict(f"工单 {ticket.number} 已于 {_local(last.at)} 由 {last.by} 催办，"
                       f"{URGE_GAP.seconds // 3600} 小时内不重复催办，以免重复打扰承办单位",
                       code="urged_recently", details={"urged_at": last.at.isoformat()})
    template, words = _urge_words(ticket, now)
    staff = recipients.unit_staff(session, unit_id)
    event = record_event(session, ticket, "urge", actor, reason=text or "请抓紧办理", unit_id=unit_id,
                         details={"manual": True, "overdue": template == "unit.urge", "stage": words["stage"],
                                  "notified": len(staff)})
    snap = reference.snapshot(session)
    session.flush()
    recipients.tell_staff(
        session, key=f"ticket:{ticket.id}:urge:event{event.id}", people=staff,
        template_code=template, ticket_id=ticket.id, urgent=True,
        context={"ticket_number": ticket.number, "title": ticket.title, "note": text or "",
                 "unit_name": snap.units[unit_id][1], **words})
    return event


def _urge_words(ticket: Ticket, now: datetime) -> tuple[str, dict[str, str]]:
    """The template and the words of a 催办: the unit's stages past their deadline (签收、反馈),
    else its nearest running stage with the time left; a suspended ticket's clocks stand still."""
    stages = {s: getattr(ticket, f"{s}_due_at") for s in running_stages(ticket) if s != "dispatch"}
    late = [s for s, due in stages.items() if due < now]
    if late:
        return "unit.urge", {"stage": "、".join(STAGE_LABELS[s] for s in late),
                             "deadline": _deadline(min(stages[s] for s in late))}
    if stages:
        stage = min(stages, key=lambda s: stages[s])
        return "unit.urge_early", {"stage": STAGE_LABELS[stage], "deadline": _deadline(stages[stage]),
                                   "left": f"尚余 {clock.span_text(stages[stage] - now)}"}
    due = ticket.reply_due_at
    return "unit.urge_early", {"stage": STAGE_LABELS["reply"], "deadline": _deadline(due) if due else "未定",
                               "left": f"{STATUS_LABELS[ticket.status]}，计时暂停"}


def order_due(snap: reference.Snapshot, start: datetime, working_days: int | None = None) -> datetime:
    days = working_days if working_days is not None else int(snap.rules["supervision.order_working_days"])
    return snap.calendar.add_working_days(start, days, clock.tz(), strict=False)


def issue_order(session: Session, ticket: Ticket, *, actor: User | None, unit_id: int, level: OrderLevel | str,
                note: str, snap: reference.Snapshot | None = None, due_at: datetime | None = None,
                notify_unit: bool = True, record: bool = True) -> SupervisionOrder:
    """Write a supervision order to ``unit_id`` with its own deadline, and tell the unit's staff.
    ``record`` adds the "supervise" event (the ladder records its own escalation event instead)."""
    snap = snap or reference.snapshot(session)
    try:
        level = OrderLevel(level)
    except ValueError:
        raise Invalid("督办级别须为 general（一般）、key（重点）或 listed（挂牌）", code="invalid_level",
                      details={"field": "level"}) from None
    now = clock.now()
    due = due_at or order_due(snap, now)
    if due <= now:
        raise Invalid("督办答复时限须晚于现在", code="invalid_due", details={"field": "due_at"})
    order = SupervisionOrder(ticket_id=ticket.id, unit_id=unit_id, level=level, state=OrderState.open, note=note,
                             issued_by_id=actor.id if actor else None, issued_at=now, due_at=due)
    insert_now(session, order)
    if record:
        record_event(session, ticket, "supervise", actor, reason=note, unit_id=unit_id,
                     details={"order_id": order.id, "level": level.value, "due_at": due.isoformat()})
    if notify_unit:
        recipients.tell_staff(
            session, key=f"order:{order.id}:issued", people=recipients.unit_staff(session, unit_id),
            template_code="unit.supervision", ticket_id=ticket.id, urgent=level != OrderLevel.general,
            context={"ticket_number": ticket.number, "title": ticket.title, "level": ORDER_LEVEL_LABELS[level],
                     "deadline": _deadline(due), "note": note})
    return order


def open_order_of(session: Session, ticket: Ticket, unit_id: int, level: OrderLevel) -> SupervisionOrder | None:
    """An unanswered 督办单 to ``unit_id`` in the unit's current round on the ticket (since its part
    was last dispatched), of ``level`` or higher, whether a supervisor issued it by hand or the
    ladder did for another stage: the escalation ladder folds its own order of that level into it
    rather than ordering the unit twice while one order already presses it. The caller holds the
    ticket's row lock, as :func:`supervise` does, so an order being issued at the same moment is
    either seen here or sees the ladder's."""
    task = ticket.task_of(unit_id)
    query = select(SupervisionOrder).where(
        SupervisionOrder.ticket_id == ticket.id, SupervisionOrder.unit_id == unit_id,
        SupervisionOrder.state == OrderState.open,
        SupervisionOrder.level.in_([lv for lv, rank in LEVEL_RANK.items() if rank >= LEVEL_RANK[level]]))
    if task is not None and task.dispatched_at is not None:
        query = query.where(SupervisionOrder.issued_at >= task.dispatched_at)
    return session.scalars(query.order_by(SupervisionOrder.issued_at, SupervisionOrder.id).limit(1)).first()


def supervise(session: Session, ticket: Ticket, *, actor: User | None, level: str = "general", note: str,
              due_at: datetime | None = None, working_days: int | None = None) -> SupervisionOrder:
    """督办 by a supervisor: an order to the lead unit, due in ``working_days`` (the rule's default)
    or at ``due_at``."""
    _lock(session, ticket)
    authorize(actor, "supervise", ticket)
    text = validation.require_text(note, "note", "督办意见", max_chars=MAX_NOTE)
    unit_id = _require_unit(ticket, "督办")
    snap = reference.snapshot(session)
    if validation.is_hotline_center(snap, unit_id):  # a ticket dispatched there before dispatch refused it
        raise Invalid(f"工单 {ticket.number} 的主办单位「{snap.units[unit_id][1]}」是热线中心，不承办工单，不能向其督办；"
                      "请先把工单派给承办单位", code="not_a_handling_unit", details={"field": "unit_id"})
    if working_days is not None and not (isinstance(working_days, int) and 1 <= working_days <= 30):
        raise Invalid("督办时限须为 1–30 个工作日", code="invalid_due", details={"field": "working_days"})
    try:
        wanted = OrderLevel(level)
    except ValueError:
        wanted = None  # issue_order refuses it with its message
    if wanted is not None:
        for open_order in session.scalars(select(SupervisionOrder).where(
                SupervisionOrder.ticket_id == ticket.id, SupervisionOrder.unit_id == unit_id,
                SupervisionOrder.state == OrderState.open)):
            if LEVEL_RANK[open_order.level] >= LEVEL_RANK[wanted]:
                raise Conflict(
                    f"工单 {ticket.number} 已有未答复的{ORDER_LEVEL_LABELS[open_order.level]}督办单"
                    f"（{_local(open_order.issued_at)} 下达，答复时限 {_deadline(open_order.due_at)}）：请等待答复，"
                    "或提高督办级别再下达", code="order_open", details={"order_id": open_order.id})
    due = due_at or order_due(snap, clock.now(), working_days)
    return issue_order(session, ticket, actor=actor, unit_id=unit_id, level=level, note=text or "", snap=snap,
                       due_at=due)


def answer_order(session: Session, order: SupervisionOrder, *, actor: User | None, answer: str) -> SupervisionOrder:
    """答复督办: the ordered unit (its handlers, or an admin) answers once."""
    _lock(session, order)
    ticket = session.get(Ticket, order.ticket_id)
    if ticket is None:
        raise NotFound("督办单对应的工单不存在")
    if actor is not None:
        if actor.role not in (Role.handler, Role.admin):
            raise PermissionDenied("只有被督办单位的承办人可以答复督办")
        if actor.role == Role.handler and actor.unit_id != order.unit_id:
            raise NotFound("督办单不存在或不属于本单位")
    text = validation.require_text(answer, "answer", "督办答复", max_chars=MAX_NOTE)
    if order.state != OrderState.open:
        raise TransitionNotAllowed("该督办单已答复或已撤销，不能再次答复", details={"state": order.state.value})
    now = clock.now()
    order.state, order.answer, order.answered_at = OrderState.answered, text, now
    order.answered_by_id = actor.id if actor else None
    record_event(session, ticket, "answer_supervision", actor, reason=text, unit_id=order.unit_id,
                 details={"order_id": order.id, "on_time": now <= order.due_at})
    _tell_issuer(session, order, ticket, on_time=now <= order.due_at)
    return order


def _tell_issuer(session: Session, order: SupervisionOrder, ticket: Ticket, *, on_time: bool) -> None:
    """The answer reaches whoever asked for it: the supervisor who issued the order, or (for an
    order the escalation ladder issued, or whose issuer has left) every supervisor; inbox only."""
    issuer = session.get(User, order.issued_by_id) if order.issued_by_id else None
    people = ([(issuer.id, issuer.phone)] if issuer is not None and issuer.active
              else recipients.with_role(session, Role.supervisor))
    snap = reference.snapshot(session)
    recipients.tell_staff(
        session, key=f"order:{order.id}:answered", people=people, template_code="supervisor.order_answered",
        ticket_id=ticket.id, sms=False,
        context={"ticket_number": ticket.number, "title": ticket.title, "level": ORDER_LEVEL_LABELS[order.level],
                 "unit_name": snap.units[order.unit_id][1], "timing": "按期" if on_time else "逾期",
                 "answer": order.answer or ""})


def orders_for(session: Session, *, actor: User, state: str | None = None, unit_id: int | None = None,
               limit: int = 100, offset: int = 0) -> list[SupervisionOrder]:
    """Orders a person may see: handlers their unit's, supervisors, dispatchers and admins all."""
    query = _visible_orders(actor, state, unit_id).order_by(SupervisionOrder.due_at, SupervisionOrder.id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_orders(session: Session, *, actor: User, state: str | None = None, unit_id: int | None = None) -> int:
    """How many orders :func:`orders_for` would list without a limit."""
    query = _visible_orders(actor, state, unit_id).with_only_columns(func.count(SupervisionOrder.id))
    return int(session.scalar(query) or 0)


def of_ticket(session: Session, ticket_id: int, *, unit_id: int | None = None) -> list[SupervisionOrder]:
    """A ticket's orders, oldest first; ``unit_id`` keeps those to one unit (what its handlers see)."""
    query = select(SupervisionOrder).where(SupervisionOrder.ticket_id == ticket_id)
    if unit_id is not None:
        query = query.where(SupervisionOrder.unit_id == unit_id)
    return list(session.scalars(query.order_by(SupervisionOrder.issued_at, SupervisionOrder.id)))


def open_listing(session: Session, *, actor: User, unit_id: int | None = None,
                 limit: int = 50) -> list[tuple[SupervisionOrder, str, str]]:
    """Unanswered orders a person may see (as :func:`orders_for`), with their ticket's number and
    title, the earliest due first: the unit inbox's 督办单待答复 and the supervisor board's list."""
    rows = session.execute(
        _visible_orders(actor, "open", unit_id).add_columns(Ticket.number, Ticket.title)
        .join(Ticket, Ticket.id == SupervisionOrder.ticket_id)
        .order_by(SupervisionOrder.due_at, SupervisionOrder.id).limit(limit))
    return [(order, number, title) for order, number, title in rows]


def answered_listing(session: Session, *, actor: User,
                     limit: int = 20) -> list[tuple[SupervisionOrder, str, str]]:
    """Answered orders a person may see (as :func:`orders_for`), the latest answer first, with their
    ticket's number and title: the supervisor board's 已答复督办单."""
    rows = session.execute(
        _visible_orders(actor, "answered", None).add_columns(Ticket.number, Ticket.title)
        .join(Ticket, Ticket.id == SupervisionOrder.ticket_id)
        .order_by(SupervisionOrder.answered_at.desc(), SupervisionOrder.id.desc()).limit(limit))
    return [(order, number, title) for order, number, title in rows]


def _visible_orders(actor: User, state: str | None, unit_id: int | None):  # noqa: ANN202
    query = select(SupervisionOrder)
    if actor.role == Role.handler:
        query = query.where(SupervisionOrder.unit_id == actor.unit_id)
    elif actor.role not in (Role.supervisor, Role.admin, Role.dispatcher):
        raise PermissionDenied("您的角色无权查看督办单")
    if state:
        try:
            query = query.where(SupervisionOrder.state == OrderState(state))
        except ValueError:
            raise Invalid("state 须为 open、answered 或 withdrawn", details={"field": "state"}) from None
    if unit_id is not None:
        query = query.where(SupervisionOrder.unit_id == unit_id)
    return query


def sweep_orders(db: Database, *, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Open orders past their deadline: marked overdue once (conditional UPDATE), on the timeline,
    and the supervisors told."""
    now = now or clock.now()
    orders = SupervisionOrder.__table__
    counts = {"overdue": 0}
    with db.transaction(write=True) as session:
        ids = list(session.scalars(select(orders.c.id).where(orders.c.state == OrderState.open.value, orders.c.due_at <= now,
                                                        orders.c.overdue_at.is_(None)).order_by(orders.c.due_at).limit(batch)))
        for order_id in ids:
            won = session.execute(update(orders).where(orders.c.id == order_id, orders.c.overdue_at.is_(None),
                                                  orders.c.state == OrderState.open.value)
                                  .values(overdue_at=now)).rowcount
            if won:
                _order_overdue(session, session.get(SupervisionOrder, order_id), now)
                counts["overdue"] += 1
    return counts


def _order_overdue(session: Session, order: SupervisionOrder, now: datetime) -> None:
    ticket = session.get(Ticket, order.ticket_id)
    snap = reference.snapshot(session)
    record_event(session, ticket, "supervision_overdue", None, unit_id=order.unit_id,
                 reason=f"{ORDER_LEVEL_LABELS[order.level]}督办单已超过答复时限（{_deadline(order.due_at)}），单位尚未答复",
                 details={"order_id": order.id})
    recipients.tell_staff(
        session, key=f"order:{order.id}:overdue", people=recipients.with_role(session, Role.supervisor),
        template_code="supervisor.order_overdue", ticket_id=ticket.id, sms=False,
        context={"ticket_number": ticket.number, "level": ORDER_LEVEL_LABELS[order.level],
                 "unit_name": snap.units[order.unit_id][1], "deadline": _deadline(order.due_at)})



@dataclass(frozen=True)
class HolidayChange:
    tickets: int  # tickets whose deadlines moved
    orders: int  # open supervision orders whose 答复时限 moved


def follow_holiday_change(session: Session, before: WorkCalendar, *, actor: User | None) -> HolidayChange:
    """After the holiday table changed (``before`` is the calendar as it was), move what counts in
    working days: the running deadlines of open tickets (``deadlines.recompute_after_holidays``) and
    the 答复时限 of open supervision orders not yet declared overdue, each re-counted from its issue
    time with as many working days as it was given."""
    tickets = recompute_after_holidays(session, before, actor=actor)
    after, tz = reference.snapshot(session).calendar, clock.tz()
    moved = 0
    for order in session.scalars(select(SupervisionOrder).where(
            SupervisionOrder.state == OrderState.open, SupervisionOrder.overdue_at.is_(None))):
        days = next((n for n in range(1, 61)
                     if before.add_working_days(order.issued_at, n, tz, strict=False) == order.due_at), None)
        if days is None:  # a due time set by hand, not a count of working days
            continue
        due = after.add_working_days(order.issued_at, days, tz, strict=False)
        if due != order.due_at:
            order.due_at, moved = due, moved + 1
    return HolidayChange(tickets=tickets, orders=moved)


def moved_text(moved: HolidayChange) -> str:
    """What a holiday change moved, as the admin is told it."""
    text = f"{moved.tickets} 张在办工单的时限已按新的工作日重新计算"
    return text + (f"，{moved.orders} 张督办单的答复时限随之调整" if moved.orders else "")
