"""Reads of tickets, all through the data scope: lists, search, one ticket, its timeline, stats."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from hotline.accounts.scope import Scope
from hotline.directory.models import Unit
from hotline.kit import clock
from hotline.kit.errors import Conflict, Invalid, NotFound
from hotline.tickets.models import Ticket, TicketEvent, TicketUnit, UnitRole, UnitTaskStatus
from hotline.tickets.sla import RUNNING
from hotline.tickets.states import OPEN, Status
from hotline.tickets.validation import CHANNEL_LABELS, KIND_LABELS, URGENCY_LABELS

MAX_PAGE_SIZE = 200


def visible(scope: Scope) -> Any:
    """The WHERE clause of everything ``scope`` may see (the only place the rule is written)."""
    if scope.all_tickets:
        return and_(True)
    if scope.unit_id is None:
        return and_(False)
    return exists().where(
        TicketUnit.ticket_id == Ticket.id,
        TicketUnit.unit_id == scope.unit_id,
        TicketUnit.status != UnitTaskStatus.withdrawn,
    )


def _unit_tickets(unit_id: int) -> Any:
    """The ids of the tickets a unit has a part in: an index range on ticket_units (unit_id,
    ticket_id), not a check per ticket, so a small unit's list does not scan every ticket."""
    return select(TicketUnit.ticket_id).where(TicketUnit.unit_id == unit_id,
                                              TicketUnit.status != UnitTaskStatus.withdrawn)


def caller_visible(scope: Scope, ticket: Ticket) -> bool:
    return scope.sees_confidential or not ticket.caller_confidential


def get_ticket(session: Session, scope: Scope, key: int | str, *, expected_version: int | None = None) -> Ticket:
    """One ticket by id or number, or ``NotFound`` when it does not exist or is out of scope."""
    query = select(Ticket).options(selectinload(Ticket.units), selectinload(Ticket.attachments))
    if isinstance(key, str) and key.isascii() and key.isdigit():
        key = int(key)
    if isinstance(key, int):
        if not 0 < key < 2**31:
            raise NotFound(f"工单 {key} 不存在或不在您的权限范围内")
        query = query.where(Ticket.id == key)
    else:
        query = query.where(Ticket.number == key)
    ticket = session.scalar(query.where(visible(scope)))
    if ticket is None:
        raise NotFound(f"工单 {key} 不存在或不在您的权限范围内")
    if expected_version is not None and ticket.version != expected_version:
        raise Conflict(
            f"工单 {ticket.number} 已被他人修改（版本 {ticket.version}，您看到的是 {expected_version}），请刷新后重试",
            details={"current_version": ticket.version},
        )
    return ticket


@dataclass
class TicketFilter:
    status: list[str] = field(default_factory=list)
    unit_id: int | None = None
    region_code: str | None = None
    category_code: str | None = None
    kind: str | None = None
    channel: str | None = None
    urgency: str | None = None
    caller_phone: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    overdue: bool | None = None
    q: str | None = None


def running_in(stage: str) -> Any:
    """``status IN`` the statuses that run ``stage``'s clock (``sla.RUNNING``), written into the SQL
    as literals in that order: a partial index over them (``ix_tickets_open_reply_due``) can be
    chosen only when SQLite finds its predicate as a term of the query, which bound parameters
    never are."""
    return Ticket.status.in_(bindparam(f"running_{stage}", list(RUNNING[stage]), expanding=True,
                                       literal_execute=True, unique=True))


def stage_overdue(stage: str, now: datetime) -> Any:
    """``stage`` runs and is past its due time (the contact clock until the caller is reached)."""
    cond = [getattr(Ticket, f"{stage}_due_at") < now, running_in(stage)]
    if stage == "contact":
        cond.append(Ticket.contacted_at.is_(None))
    return and_(*cond)


def overdue_clause(now: datetime) -> Any:
    """A ticket is overdue when any running stage is past its due time (see ``sla.RUNNING``)."""
    return or_(*(stage_overdue(stage, now) for stage in RUNNING))


# The columns the unit inbox shows (and ``sla.stage_states`` reads), plus the unit's task (an alias
# of ticket_units, so the EXISTS of ``visible`` keeps its own ticket_units and is not correlated).
_TASK = aliased(TicketUnit, name="task")
INBOX_COLUMNS = (
    Ticket.id, Ticket.number, Ticket.title, Ticket.region_code, Ticket.address, Ticket.status, Ticket.urgency,
    Ticket.received_at,
    Ticket.dispatch_due_at, Ticket.accept_due_at, Ticket.contact_due_at, Ticket.reply_due_at,
    Ticket.dispatched_at, Ticket.accepted_at, Ticket.contacted_at, Ticket.replied_at, Ticket.reopen_count,
    _TASK.role.label("task_role"), _TASK.status.label("task_status"),
)
OPEN_TASKS = (UnitTaskStatus.dispatched, UnitTaskStatus.accepted)
HELD = (Status.suspended, Status.return_requested)  # no unit's clock runs: 挂起, 退单待审
PART_STAGES = ("accept", "contact", "reply")


def part_running(task: Any = _TASK) -> dict[str, Any]:
    """When each of a unit's own clocks runs (its part, not the whole ticket's; the inbox row's
    ``web.routes.unit.part_clocks`` says the same in Python): 签收 while its task is not accepted (the
    lead's while the ticket waits for it), 联系来电人 for the lead only, until the caller is reached,
    反馈 while ``sla.RUNNING`` keeps it running. Nothing runs while the ticket is suspended or its
    return waits for the centre's review (退单待审, ``HELD``)."""
    return {
        "accept": and_(task.status == UnitTaskStatus.dispatched,
                       or_(Ticket.status == Status.dispatched,
                           and_(task.role == UnitRole.co, Ticket.status.not_in(HELD)))),
        "contact": and_(task.role == UnitRole.lead, Ticket.contacted_at.is_(None),
                        Ticket.status.in_([Status(s) for s in RUNNING["contact"]])),
        "reply": Ticket.status.in_([Status(s) for s in RUNNING["reply"]]),
    }


@dataclass
class InboxSections:
    """Each section's first rows (deadline order) and its total; ``pages[name]`` the page shown."""

    rows: dict[str, list[Any]]
    totals: dict[str, int]
    pages: dict[str, int]
    per_page: int


def unit_inbox(session: Session, scope: Scope, unit_id: int, statuses: list[str], now: datetime, *,
               due_soon: Any, per_page: int = 50, pages: dict[str, int] | None = None) -> InboxSections:
    """A unit's open tasks by section, read as plain rows of ``INBOX_COLUMNS`` (no ORM objects):
    待签收 (task dispatched), 办理中 (task accepted), 已超期 (one of the unit's own clocks overdue,
    ``part_running``), 即将到期 (reply clock running and due within ``due_soon``, not overdue). Ordered
    by the unit's next due time (签收, then 联系来电人, then 反馈; none last), newest first on a tie;
    one page of ``per_page`` rows per section and every section's total in one counting query."""
    if not 1 <= per_page <= MAX_PAGE_SIZE:
        raise Invalid(f"分页参数无效：per_page 取 1–{MAX_PAGE_SIZE}", code="invalid_page", details={"field": "per_page"})
    base = (
        select(*INBOX_COLUMNS)
        .join(_TASK, and_(_TASK.ticket_id == Ticket.id, _TASK.unit_id == unit_id, _TASK.status.in_(OPEN_TASKS)))
        .where(visible(scope), Ticket.status.in_([Status(s) for s in statuses]))
    )
    running = part_running(_TASK)
    due = {s: getattr(Ticket, f"{s}_due_at") for s in PART_STAGES}
    late = or_(*(and_(running[s], due[s].is_not(None), due[s] < now) for s in PART_STAGES))
    soon = and_(~late, running["reply"], Ticket.reply_due_at.is_not(None), Ticket.reply_due_at >= now,
                Ticket.reply_due_at <= now + due_soon)
    next_due = case(*((and_(running[s], due[s].is_not(None)), due[s]) for s in PART_STAGES), else_=None)
    where = {
        "待签收": _TASK.status == UnitTaskStatus.dispatched,
        "办理中": _TASK.status == UnitTaskStatus.accepted,
        "即将到期": soon,
        "已超期": late,
    }
    counted = base.with_only_columns(
        *(func.coalesce(func.sum(case((cond, 1), else_=0)), 0) for cond in where.values())
    )
    totals = dict(zip(where, session.execute(counted).one(), strict=True))
    pages = pages or {}
    rows: dict[str, list[Any]] = {}
    shown: dict[str, int] = {}
    for name, cond in where.items():
        last = max(1, -(-totals[name] // per_page))
        page = shown[name] = min(max(1, pages.get(name, 1)), last)
        if not totals[name]:
            rows[name] = []
            continue
        rows[name] = list(session.execute(
            base.where(cond)
            .order_by(next_due.is_(None), next_due, Ticket.received_at.desc(), Ticket.id.desc())
            .limit(per_page).offset((page - 1) * per_page)
        ))
    return InboxSections(rows=rows, totals={k: int(v) for k, v in totals.items()}, pages=shown, per_page=per_page)


def last_reopens(session: Session, ticket_ids: list[int]) -> dict[int, TicketEvent]:
    """Each ticket's latest 重办 (reopen) event, for the inbox rows of reopened tickets: its reason
    and the caller's words at the callback (``details["caller_words"]``)."""
    if not ticket_ids:
        return {}
    rows = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids),
                                                     TicketEvent.action == "reopen")
                           .order_by(TicketEvent.at, TicketEvent.id))
    return {e.ticket_id: e for e in rows}  # the last one of each ticket wins


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# The filters with a fixed set of values: what a person calls the field, and its values' labels.
CHOICES = {"kind": ("诉求类型", KIND_LABELS), "channel": ("受理渠道", CHANNEL_LABELS), "urgency": ("紧急程度", URGENCY_LABELS)}


def check_choice(name: str, value: str) -> str:
    """``value`` if it is one of the filter's values, else ``Invalid`` naming the field and what it
    may be (a value the column cannot hold would otherwise fail in the driver, or match nothing)."""
    if name not in CHOICES:
        return value
    label, allowed = CHOICES[name]
    if value not in allowed:
        options = "、".join(f"{v}（{text}）" for v, text in allowed.items())
        raise Invalid(f"未知{label}「{value}」，{name} 可选：{options}", code=f"unknown_{name}",
                      details={"field": name, "allowed": list(allowed)})
    return value


OPEN_FILTER = "open"  # a status filter standing for all of ``states.OPEN`` (在办)


def filtered(scope: Scope, f: TicketFilter) -> Select[Any]:
    query = select(Ticket).where(visible(scope))
    if f.status:
        try:  # "open" (在办) stands for every status not yet finished, as the dashboard counts them
            wanted = {st for s in f.status for st in (OPEN if s == OPEN_FILTER else [Status(s)])}
            query = query.where(Ticket.status.in_(sorted(wanted)))
        except ValueError:
            raise Invalid(f"未知状态：{','.join(f.status)}", code="unknown_status", details={"field": "status"}) from None
    if f.unit_id is not None:
        query = query.where(Ticket.id.in_(_unit_tickets(f.unit_id)))
    if f.region_code:
        query = query.where(Ticket.region_code.startswith(f.region_code, autoescape=True))
    if f.category_code:
        query = query.where(Ticket.category_code.startswith(f.category_code, autoescape=True))
    for name in ("kind", "channel", "urgency", "caller_phone"):
        value = getattr(f, name)
        if value:
            query = query.where(getattr(Ticket, name) == check_choice(name, value))
    if f.received_from is not None:
        query = query.where(Ticket.received_at >= f.received_from)
    if f.received_to is not None:
        query = query.where(Ticket.received_at < f.received_to)
    if f.overdue is not None:
        clause = overdue_clause(clock.now())
        query = query.where(clause if f.overdue else ~clause)
    if f.q:
        query = query.where(search_clause(f.q))
    return query


def search_clause(q: str) -> Any:
    """Full-text search for Chinese: every whitespace-separated term must appear in the number,
    title, content or address (substring match, the way people search Chinese text)."""
    terms = [t for t in q.split() if t][:8]
    if not terms:
        return and_(True)
    clauses = []
    for term in terms:
        pattern = f"%{_like_escape(term)}%"
        clauses.append(or_(Ticket.number == term, Ticket.title.like(pattern, escape="\\"),
                           Ticket.content.like(pattern, escape="\\"), Ticket.address.like(pattern, escape="\\")))
    return and_(*clauses)


def list_tickets(
    session: Session, scope: Scope, f: TicketFilter, *, page: int = 1, per_page: int = 50
) -> tuple[list[Ticket], int]:
    if page < 1 or not 1 <= per_page <= MAX_PAGE_SIZE:
        raise Invalid(f"分页参数无效：page ≥ 1，per_page 取 1–{MAX_PAGE_SIZE}", code="invalid_page",
                      details={"field": "per_page"})
    base = filtered(scope, f)
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery())) or 0
    rows = session.scalars(
        base.options(selectinload(Ticket.units))
        .order_by(Ticket.received_at.desc(), Ticket.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def timeline(session: Session, scope: Scope, ticket: Ticket) -> list[TicketEvent]:
    """The ticket's events in order, or ``NotFound`` out of scope: the scope check rides on the events'
    query (no second read of the ticket and its units); only an empty answer asks which it was."""
    events = list(session.scalars(select(TicketEvent).join(Ticket, Ticket.id == TicketEvent.ticket_id)
                                  .where(TicketEvent.ticket_id == ticket.id, visible(scope))
                                  .order_by(TicketEvent.at, TicketEvent.id)))
    if not events and session.scalar(select(Ticket.id).where(Ticket.id == ticket.id, visible(scope))) is None:
        raise NotFound(f"工单 {ticket.number} 不存在或不在您的权限范围内")
    return events


def merged_into(session: Session, ticket: Ticket) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.master_id == ticket.id).order_by(Ticket.id)))


def stats(session: Session, scope: Scope) -> dict[str, Any]:
    """Counts by status, kind, lead unit and overdue stage, for operators and scripts."""
    now = clock.now()
    vis = visible(scope)

    def grouped(column: Any) -> dict[str, int]:
        rows = session.execute(select(column, func.count()).where(vis).group_by(column)).all()
        return {str(k.value if hasattr(k, "value") else k): n for k, n in rows if k is not None}

    by_unit_rows = session.execute(
        select(Unit.code, Unit.name, func.count()).join(Ticket, Ticket.lead_unit_id == Unit.id).where(vis)
        .group_by(Unit.code, Unit.name).order_by(func.count().desc())
    ).all()
    overdue: dict[str, int] = {}
    for stage, statuses in RUNNING.items():
        due = getattr(Ticket, f"{stage}_due_at")
        cond = [vis, due < now, Ticket.status.in_([Status(s) for s in statuses])]
        if stage == "contact":
            cond.append(Ticket.contacted_at.is_(None))
        overdue[stage] = session.scalar(select(func.count()).select_from(Ticket).where(*cond)) or 0
    total = session.scalar(select(func.count()).select_from(Ticket).where(vis)) or 0
    return {
        "total": total,
        "by_status": grouped(Ticket.status),
        "by_kind": grouped(Ticket.kind),
        "by_channel": grouped(Ticket.channel),
        "by_unit": {code: {"name": name, "count": n} for code, name, n in by_unit_rows},
        "overdue_by_stage": overdue,
        "overdue_total": session.scalar(select(func.count()).select_from(Ticket).where(vis, overdue_clause(now))) or 0,
        "at": now.isoformat(),
    }
