"""What 三率 count, once, as SQL over the raw tables: the rollups sum these facts per day, the
drill-down lists the tickets behind them, and the benchmark's plain aggregate runs them unsummed.

An *order* is one unit's part in one round of a ticket (a ``ticket_units`` row): the lead (主办)
or a co-handler (协办). Rules (see ``directory.settings``, ``assessment.*``):

- 响应率 = orders responded in time ÷ orders, by the day the order was dispatched. Responded in time:
  signed within the accept limit and, for the lead, the caller first contacted within the contact
  limit. An order not yet responded whose limit has not passed is *pending* and left out until it
  is settled. Approved returns are counted apart (``returned``) so the rule excluding them applies
  when reading.
- 解决率 = callbacks where the caller said resolved ÷ callbacks with a verdict; 满意率 = satisfied (and,
  by rule, basically satisfied) ÷ the same, by the day of the callback, credited to the lead unit
  of the round. Every round counts: a reopened ticket's first, negative verdict stands beside the
  next one. Callers not reached are not evaluated.
- Never counted: tickets ruled invalid or malicious (``tickets.assessment_exclusion``) and orders
  withdrawn because their ticket was merged into another.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, Select, String, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from hotline.kit import clock
from hotline.tickets.models import Satisfaction, Ticket, TicketUnit, UnitRole

DIMENSIONS = ("unit", "township", "category", "all")
# Kept in the rollups beside those, read by no ranking: the lead units' counts per county
# ("140828:12", county then unit id), so a county picked on the dashboard reads its deadlines by
# unit from the rollup (the county is the ticket's region code cut to six digits, or the whole
# code when shorter; ``county_key``).
UNIT_AREA = "unit_area"
ROLLUP_DIMENSIONS = (*DIMENSIONS, UNIT_AREA)
COUNTY_LENGTH = 6

ORDER_MEASURES = ("orders", "responded", "pending", "returned", "returned_responded", "replied",
                  "replied_on_time")
CALLBACK_MEASURES = ("evaluated", "resolved", "satisfied", "basically_satisfied")
MEASURES = ORDER_MEASURES + CALLBACK_MEASURES

T, U = Ticket.__table__.c, TicketUnit.__table__.c


def local_day(column: ColumnElement, dialect: str) -> ColumnElement:
    """The local calendar day of a UTC timestamp column (China keeps one offset all year)."""
    if dialect == "sqlite":
        offset = clock.tz().utcoffset(datetime(2000, 1, 1)) or timedelta(0)
        return func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")
    return cast(func.timezone(clock.tz().key, column), Date)


def day_start(day: date) -> datetime:
    """Local midnight of ``day`` in UTC."""
    return datetime.combine(day, time(0), clock.tz()).astimezone(UTC)


def county_of(column: ColumnElement) -> ColumnElement:
    """A region code cut to its county (six digits; a shorter code, a city or province, whole)."""
    return func.substr(column, 1, COUNTY_LENGTH)


def rolled_up(region_code: str | None) -> bool:
    """Whether the rollups' county keys answer for ``region_code``: a county or a region above it
    (a township's tickets are counted from the raw tables)."""
    return bool(region_code) and region_code.isascii() and region_code.isdigit() \
        and len(region_code) <= COUNTY_LENGTH


def dimension_key(dimension: str) -> ColumnElement:
    if dimension == UNIT_AREA:
        return county_of(T.region_code).concat(":").concat(cast(U.unit_id, String))
    if dimension == "unit":
        return cast(U.unit_id, String)
    if dimension == "township":
        return case((func.length(T.region_code) >= 9, func.substr(T.region_code, 1, 9)), else_=T.region_code)
    if dimension == "category":
        return func.substr(T.category_code, 1, 2)
    if dimension == "all":
        return literal("")
    raise ValueError(f"unknown dimension {dimension!r}")


def within(column: ColumnElement, region_code: str, *, indexed: bool = True) -> ColumnElement[bool]:
    """``column`` (a region code) is ``region_code`` or a region inside it. Written as a range, not a
    LIKE, so the (region_code, received_at) index serves it on both backends whatever the collation:
    codes are digits, so everything under 140828 sorts from 140828 up to before 140829.
    ``indexed=False`` (``column || ''``) keeps the planner off the region index where another one
    finds fewer rows: the open tickets through the status index, not a county's whole history."""
    if not indexed:
        column = column.concat("")
    if not (region_code.isascii() and region_code.isdigit()):  # no region has such a code: a plain prefix
        return column.startswith(region_code, autoescape=True)
    return and_(column >= region_code, column < str(int(region_code) + 1))


def counted() -> ColumnElement[bool]:
    """Orders the assessment sees at all."""
    return and_(T.assessment_exclusion.is_(None), or_(U.ended.is_(None), U.ended != "merged"))


def _responded() -> ColumnElement[bool]:
    return and_(U.accepted_on_time.is_(True), or_(U.role == UnitRole.co.value, U.contacted_on_time.is_(True)))


def unanswered() -> ColumnElement[bool]:
    """Not signed yet, or (lead) the caller not contacted yet."""
    return or_(U.accepted_at.is_(None), and_(U.role == UnitRole.lead.value, U.contacted_on_time.is_(None)))


def order_predicates(now: datetime) -> dict[str, ColumnElement[bool]]:
    """Each order measure as a condition on one (counted) order row."""
    returned = U.ended == "returned"
    kept = or_(U.ended.is_(None), U.ended != "returned")
    pending = and_(unanswered(), U.ended.is_(None), or_(U.response_due_at.is_(None), U.response_due_at > now))
    lead = U.role == UnitRole.lead.value
    return {
        "orders": kept,
        "responded": and_(kept, _responded()),
        "pending": and_(kept, pending),
        "returned": returned,
        "returned_responded": and_(returned, _responded()),
        "replied": and_(lead, U.replied_on_time.is_not(None)),
        "replied_on_time": and_(lead, U.replied_on_time.is_(True)),
    }


def callback_predicates() -> dict[str, ColumnElement[bool]]:
    """Each callback measure as a condition on one evaluated lead order."""
    return {
        "evaluated": literal(True),
        "resolved": U.resolved.is_(True),
        "satisfied": U.satisfaction == Satisfaction.satisfied.value,
        "basically_satisfied": U.satisfaction == Satisfaction.basically_satisfied.value,
    }


def evaluated() -> ColumnElement[bool]:
    return and_(U.callback_at.is_not(None), U.role == UnitRole.lead.value,
                U.satisfaction != Satisfaction.not_reached.value)


def _sum(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _zero() -> ColumnElement[int]:
    return literal(0)


def _joined(*columns: ColumnElement) -> Select:
    return select(*columns).select_from(TicketUnit.__table__.join(Ticket.__table__, T.id == U.ticket_id))


def daily_facts(dimension: str, dialect: str, now: datetime, *, start: datetime | None = None,
                end: datetime | None = None, region_code: str | None = None) -> Select:
    """Rows (day, key, *MEASURES) for ``dimension``: order counts by dispatch day and callback counts
    by callback day, for the UTC range [start, end) when given (whole history otherwise), of the
    tickets placed in ``region_code`` (and everything inside it) when given."""
    key = dimension_key(dimension).label("key")
    orders = order_predicates(now)
    callbacks = callback_predicates()
    order_day = local_day(U.dispatched_at, dialect).label("day")
    o = _joined(order_day, key, *[case((orders[m], 1), else_=0).label(m) for m in ORDER_MEASURES],
                *[_zero().label(m) for m in CALLBACK_MEASURES]).where(counted())
    cb_day = local_day(U.callback_at, dialect).label("day")
    c = _joined(cb_day, key, *[_zero().label(m) for m in ORDER_MEASURES],
                *[case((callbacks[m], 1), else_=0).label(m) for m in CALLBACK_MEASURES]).where(counted(), evaluated())
    if start is not None:
        o = o.where(U.dispatched_at >= start)
        c = c.where(U.callback_at >= start)
    if end is not None:
        o = o.where(U.dispatched_at < end)
        c = c.where(U.callback_at < end)
    if region_code:
        o, c = o.where(within(T.region_code, region_code)), c.where(within(T.region_code, region_code))
    both = union_all(o, c).subquery()
    return (select(both.c.day, both.c.key, *[func.sum(both.c[m]).label(m) for m in MEASURES])
            .group_by(both.c.day, both.c.key))


def period_facts(dimension: str, now: datetime, start: datetime, end: datetime,
                 region_code: str | None = None) -> tuple[Select, Select]:
    """The plain aggregate over the raw tables for the UTC range [start, end), no rollup involved:
    (key, *ORDER_MEASURES) and (key, *CALLBACK_MEASURES), of the tickets in ``region_code`` (and
    everything inside it) when given. The benchmark and the tests compare the rollups against it."""
    key = dimension_key(dimension)
    orders = order_predicates(now)
    callbacks = callback_predicates()
    o = (_joined(key.label("key"), *[_sum(orders[m]).label(m) for m in ORDER_MEASURES])
         .where(counted(), U.dispatched_at >= start, U.dispatched_at < end).group_by(key))
    c = (_joined(key.label("key"), *[_sum(callbacks[m]).label(m) for m in CALLBACK_MEASURES])
         .where(counted(), evaluated(), U.callback_at >= start, U.callback_at < end).group_by(key))
    if region_code:
        o, c = o.where(within(T.region_code, region_code)), c.where(within(T.region_code, region_code))
    return o, c
