"""The tickets behind a figure: every count on an assessment table or chart opens to its list.

``measure`` names a count of ``facts.MEASURES`` or one of the rates' parts: ``response`` (the
orders of the response rate's denominator), ``not_responded`` (those that missed it), ``resolution``
/ ``unresolved``, ``satisfaction`` / ``unsatisfied`` (by the rules: 基本满意 counts when the rule
says), ``received`` (tickets received, for volume and heat cells).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session

from hotline.analytics import facts, rates
from hotline.kit import clock
from hotline.kit.errors import Invalid, NotFound
from hotline.kit.ids import MAX_ID
from hotline.tickets.models import Channel, Satisfaction, Ticket
from hotline.tickets.queries import check_choice

T, U = facts.T, facts.U

LABELS = {
    "response": "响应率分母（已到期的派单）", "responded": "按时响应", "not_responded": "未按时响应",
    "pending": "尚在响应时限内", "returned": "经审核退单", "evaluated": "已回访评价",
    "resolution": "已回访评价", "resolved": "已解决", "unresolved": "未解决",
    "satisfaction": "已回访评价", "satisfied": "满意", "unsatisfied": "不满意", "replied": "已反馈",
    "replied_on_time": "按时反馈", "replied_late": "超时反馈", "received": "受理工单",
}


@dataclass
class Page:
    ticket_ids: list[int]
    total: int  # tickets
    label: str
    counted: int = 0  # what the figure counts: orders (派单) or callback verdicts, a ticket may have several
    counted_as: str = ""  # "派单", "回访评价" or "" (the figure counts tickets)


COUNTED_AS = {"dispatched_at": "派单", "callback_at": "回访评价"}


def _satisfied(count_basic: bool):
    ok = [Satisfaction.satisfied.value] + ([Satisfaction.basically_satisfied.value] if count_basic else [])
    return U.satisfaction.in_(ok)


def _condition(measure: str, rules: rates.AssessmentRules, now):
    """(condition on an order row, which timestamp places it in the period)."""
    o = facts.order_predicates(now)
    settled = and_(o["orders"], not_(o["pending"]))
    if rules.exclude_approved_returns:
        base, responded = settled, and_(settled, o["responded"])
    else:
        base = or_(settled, o["returned"])
        responded = or_(and_(settled, o["responded"]), o["returned_responded"])
    by_order = {
        "response": base, "responded": responded, "not_responded": and_(base, not_(responded)),
        "pending": o["pending"], "returned": o["returned"], "replied": o["replied"],
        "replied_on_time": o["replied_on_time"], "replied_late": and_(o["replied"], not_(o["replied_on_time"])),
    }
    if measure in by_order:
        return by_order[measure], U.dispatched_at
    ev = facts.evaluated()
    by_callback = {
        "evaluated": ev, "resolution": ev, "satisfaction": ev,
        "resolved": and_(ev, U.resolved.is_(True)), "unresolved": and_(ev, not_(U.resolved.is_(True))),
        "satisfied": and_(ev, _satisfied(rules.count_basically_satisfied)),
        "unsatisfied": and_(ev, not_(_satisfied(rules.count_basically_satisfied))),
    }
    if measure in by_callback:
        return by_callback[measure], U.callback_at
    raise Invalid(f"没有名为 {measure} 的指标；可选：{'、'.join(LABELS)}", code="unknown_measure",
                  details={"field": "measure"})


def _unit_id(key: str) -> int:
    if not key.isascii() or not key.isdigit():
        raise Invalid("单位编号须为数字", code="invalid_key", details={"field": "key"})
    if int(key) > MAX_ID:  # no unit has it, and no driver could look it up
        raise NotFound(f"单位 {key} 不存在", code="unit_not_found", details={"field": "key"})
    return int(key)


def _key_filter(dimension: str, key: str):
    """``facts.dimension_key(dimension) == key`` written so the indexes serve it: a township's
    tickets by region prefix (a ticket placed only at county level has its own code as the key)."""
    if dimension == "township":
        return T.region_code.startswith(key) if len(key) >= 9 else T.region_code == key
    return T.category_code.startswith(key)


def _intake_filters(channel: str, kind: str) -> list:
    """The volume charts' series: tickets received by one channel (渠道) or of one kind (诉求类型)."""
    where = []
    if channel:
        where.append(T.channel == Channel(check_choice("channel", channel)))
    if kind:
        where.append(T.kind == check_choice("kind", kind))
    return where


def tickets(session: Session, *, dimension: str, key: str, measure: str, first: date, last: date,
            limit: int = 50, offset: int = 0, channel: str = "", kind: str = "", region: str = "") -> Page:
    """One page of the tickets behind (dimension, key, measure) over the days first..last, newest
    first, with the total (a ticket with two orders in the figure is listed once); ``channel`` and
    ``kind`` narrow it to the tickets received by that channel or of that kind, ``region`` to those
    placed in that region or inside it (a county's dashboard)."""
    if dimension not in facts.DIMENSIONS:
        raise Invalid(f"维度须为 {'、'.join(facts.DIMENSIONS)}", code="unknown_dimension", details={"field": "dimension"})
    start, end = facts.day_start(first), facts.day_start(last + timedelta(days=1))
    intake = _intake_filters(channel, kind)
    if region:
        intake.append(facts.within(T.region_code, region))
    if measure == "received":
        q = select(T.id, T.received_at.label("at")).where(T.received_at >= start, T.received_at < end)
        counted_as = ""
        if dimension == "unit":
            q = q.where(T.lead_unit_id == _unit_id(key))
        elif dimension != "all" and key:
            q = q.where(_key_filter(dimension, key))
    else:
        rules = rates.current_rules(session)
        condition, stamp = _condition(measure, rules, clock.now())
        q = facts._joined(T.id, stamp.label("at")).where(facts.counted(), condition, stamp >= start, stamp < end)
        counted_as = COUNTED_AS[stamp.key]
        if dimension == "unit":
            q = q.where(U.unit_id == _unit_id(key))
        elif dimension != "all":
            q = q.where(_key_filter(dimension, key))
    sub = q.where(*intake).subquery()
    per_ticket = select(sub.c.id, func.max(sub.c.at).label("at"), func.count().label("n")).group_by(sub.c.id).subquery()
    ids, total, counted = _page(session, per_ticket, limit, offset)
    return Page(ticket_ids=ids, total=total, label=LABELS.get(measure, measure), counted=counted,
                counted_as=counted_as)


def _page(session: Session, rows, limit: int, offset: int) -> tuple[list[int], int, int]:  # noqa: ANN001
    """One page of ``rows`` (a subquery of ``id``, ``at`` and ``n``, the rows of the figure behind
    each ticket), newest first, with how many tickets and rows there are in all, in one statement:
    the totals ride on every row (``OVER ()``), so the rows behind a figure are found once, not once
    to count and again to list (at 10 million tickets a large unit's year is a few hundred
    milliseconds of reading). Only a page past the end counts separately."""
    listed = session.execute(select(rows.c.id, func.count().over().label("total"), func.sum(rows.c.n).over().label("counted"))
                             .order_by(rows.c.at.desc(), rows.c.id.desc()).limit(limit).offset(offset)).all()
    if listed:
        return [r[0] for r in listed], int(listed[0].total), int(listed[0].counted)
    if offset == 0:
        return [], 0, 0
    total, counted = session.execute(select(func.count(), func.sum(rows.c.n)).select_from(rows)).one()
    return [], int(total or 0), int(counted or 0)


def received_in(session: Session, *, region: str, category: str, first: date, last: date,
                limit: int, offset: int) -> Page:
    """Tickets received in the period in an area (any region code prefix) and a category (top-level
    code prefix): a cell of the category × region heat map."""
    where = [T.received_at >= facts.day_start(first), T.received_at < facts.day_start(last + timedelta(days=1))]
    if region:
        where.append(T.region_code.startswith(region))
    if category:
        where.append(T.category_code.startswith(category))
    total = session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    ids = list(session.scalars(select(T.id).where(*where).order_by(T.received_at.desc(), T.id.desc())
                               .limit(limit).offset(offset)))
    return Page(ticket_ids=ids, total=int(total), label=LABELS["received"])


def rows(session: Session, ids: list[int]) -> list[Ticket]:
    """The tickets of a page, in the page's order."""
    found = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]
