"""Keeping the rollup tables current: ``rebuild`` from scratch (``hotline analytics rebuild``) and
``refresh`` (the worker, every few minutes) of the days touched since the last run.

A day's rows are always recomputed whole from the raw tables (delete, then insert … select), never
incremented: a ticket moved to another township or category, a callback recorded late, or an
order that lapsed past its limit all land right without tracking what changed inside the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, DateTime, and_, cast, delete, func, insert, literal, or_, select, text
from sqlalchemy.orm import Session

from hotline.analytics import facts
from hotline.analytics.models import Assessment, IntakeByArea, IntakeByChannel, IntakeByCounty, RollupState
from hotline.kit import clock

NAME = "rollups"
# Tickets whose change committed a little after the last run began may carry an updated_at before
# its watermark; looking back this far again costs little and misses none.
MARGIN = timedelta(minutes=10)
LOCK = 12345_0010  # PostgreSQL advisory lock: one refresh at a time

T, U = facts.T, facts.U
TABLES = (IntakeByChannel, IntakeByCounty, IntakeByArea, Assessment)
DAY, MONTH = "d", "m"
PENDING_LOOKBACK = timedelta(days=62)


@dataclass(frozen=True)
class RefreshResult:
    days: int
    rebuilt: bool


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _lock(session: Session) -> None:
    if _dialect(session) == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})


def _fill(session: Session, now: datetime, start: datetime | None, end: datetime | None) -> None:
    """Insert the rollup rows computed from the raw tables for the UTC range [start, end)."""
    dialect = _dialect(session)
    day = facts.local_day(T.received_at, dialect)
    township = facts.dimension_key("township")
    category = func.substr(T.category_code, 1, 2)
    where = [T.received_at >= start] if start is not None else []
    if end is not None:
        where.append(T.received_at < end)
    d = literal(DAY)
    by_channel = (select(d, day, T.channel, T.kind, T.urgency, func.count()).where(*where)
                  .group_by(day, T.channel, T.kind, T.urgency))
    session.execute(insert(IntakeByChannel).from_select(["grain", "day", "channel", "kind", "urgency", "tickets"],
                                                        by_channel))
    county = facts.county_of(T.region_code)
    by_county = (select(d, county, day, T.channel, T.kind, T.urgency, func.count()).where(*where)
                 .group_by(county, day, T.channel, T.kind, T.urgency))
    session.execute(insert(IntakeByCounty).from_select(
        ["grain", "county_code", "day", "channel", "kind", "urgency", "tickets"], by_county))
    by_area = select(d, day, township, category, func.count()).where(*where).group_by(day, township, category)
    session.execute(insert(IntakeByArea).from_select(["grain", "day", "township_code", "category_top", "tickets"],
                                                     by_area))
    for dimension in facts.ROLLUP_DIMENSIONS:
        daily = facts.daily_facts(dimension, dialect, now, start=start, end=end).subquery()
        rows = select(literal(dimension), d, daily.c.day, daily.c.key, *[daily.c[m] for m in facts.MEASURES])
        session.execute(insert(Assessment).from_select(["dimension", "grain", "day", "key", *facts.MEASURES], rows))


def _month_start(column, dialect: str):
    if dialect == "sqlite":
        return func.date(column, "start of month")
    return cast(func.date_trunc("month", cast(column, DateTime())), Date)


def _fill_months(session: Session, first: date | None, last: date | None) -> None:
    """Month rows re-summed from the day rows of the calendar months first..last (all when None)."""
    dialect = _dialect(session)
    lo = first.replace(day=1) if first else None
    hi = _next_month(last.replace(day=1)) if last else None
    for model, keys, sums in (
        (IntakeByChannel, ("channel", "kind", "urgency"), ("tickets",)),
        (IntakeByCounty, ("county_code", "channel", "kind", "urgency"), ("tickets",)),
        (IntakeByArea, ("township_code", "category_top"), ("tickets",)),
        (Assessment, ("dimension", "key"), facts.MEASURES),
    ):
        gone = delete(model).where(model.grain == MONTH)
        if lo is not None:
            gone = gone.where(model.day >= lo, model.day < hi)
        session.execute(gone)
        month = _month_start(model.day, dialect)
        cols = [getattr(model, k) for k in keys]
        q = (select(literal(MONTH), month, *cols, *[func.sum(getattr(model, m)) for m in sums])
             .where(model.grain == DAY).group_by(month, *cols))
        if lo is not None:
            q = q.where(model.day >= lo, model.day < hi)
        session.execute(insert(model).from_select(["grain", "day", *keys, *sums], q))


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def span(model, first: date, last: date):
    """The rows of ``model`` that add up to the days first..last: month rows for the whole calendar
    months inside, day rows for the ends."""
    whole_from = first if first.day == 1 else _next_month(first)
    after_last = last + timedelta(days=1)
    whole_to = after_last.replace(day=1)  # exclusive: the month rows end before this
    if whole_from >= whole_to:
        return and_(model.grain == DAY, model.day >= first, model.day <= last)
    parts = [and_(model.grain == MONTH, model.day >= whole_from, model.day < whole_to)]
    if first < whole_from:
        parts.append(and_(model.grain == DAY, model.day >= first, model.day < whole_from))
    if whole_to <= last:
        parts.append(and_(model.grain == DAY, model.day >= whole_to, model.day <= last))
    return or_(*parts)


def _state(session: Session) -> RollupState:
    state = session.get(RollupState, NAME)
    if state is None:
        state = RollupState(name=NAME)
        session.add(state)
    return state


def rebuild(session: Session, *, now: datetime | None = None) -> None:
    """Every rollup row recomputed from the whole history (in the caller's transaction)."""
    now = now or clock.now()
    _lock(session)
    if _dialect(session) == "postgresql":  # the whole history's joins and sorts in memory, not on disk
        session.execute(text("SET LOCAL work_mem = '256MB'"))
    for model in TABLES:
        session.execute(delete(model))
    mark = session.scalar(select(func.max(T.updated_at)))
    _fill(session, now, None, None)
    _fill_months(session, None, None)
    state = _state(session)
    # Never past the clock: a row stamped in the future (a skewed clock) must not hide later changes.
    state.watermark = min(_aware(mark) or now, now)
    state.rebuilt_at = state.refreshed_at = now
    session.flush()


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's max() of a timestamp column comes back as text
        value = datetime.fromisoformat(value)
    return clock.aware(value) if value.tzinfo is None else value


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def touched_days(session: Session, since: datetime, now: datetime | None = None,
                 lapsed_since: datetime | None = None) -> set[date]:
    """The local days whose rollup rows may have changed: those of the changed tickets' intake,
    orders and callbacks, and those of orders whose response limit ran out since ``lapsed_since``
    (the last run) without an answer: the clock alone turned them from pending into late."""
    dialect = _dialect(session)
    now = now or clock.now()
    changed = select(T.id).where(T.updated_at > since)
    queries = [
        select(facts.local_day(T.received_at, dialect)).where(T.updated_at > since).distinct(),
        select(facts.local_day(U.dispatched_at, dialect)).where(U.ticket_id.in_(changed)).distinct(),
        select(facts.local_day(U.callback_at, dialect)).where(U.ticket_id.in_(changed),
                                                              U.callback_at.is_not(None)).distinct(),
        # Through the dispatched_at index: response limits are hours or days, never two months.
        select(facts.local_day(U.dispatched_at, dialect)).where(
            U.dispatched_at >= now - PENDING_LOOKBACK, U.ended.is_(None),
            U.response_due_at > (lapsed_since or since), U.response_due_at <= now,
            facts.unanswered()).distinct(),
    ]
    days: set[date] = set()
    for q in queries:
        days.update(_as_date(d) for d in session.scalars(q) if d is not None)
    return days


def _runs(days: set[date]) -> list[tuple[date, date]]:
    """Consecutive days folded into (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def refresh(session: Session, *, now: datetime | None = None) -> RefreshResult:
    """Recompute the days touched since the last run (a rebuild the first time)."""
    now = now or clock.now()
    _lock(session)
    state = session.get(RollupState, NAME)
    if state is None or state.watermark is None:
        rebuild(session, now=now)
        return RefreshResult(days=0, rebuilt=True)
    since = state.watermark - MARGIN
    mark = _aware(session.scalar(select(func.max(T.updated_at)).where(T.updated_at > since)))
    lapsed_since = (state.refreshed_at or state.watermark) - MARGIN
    days = touched_days(session, since, now, lapsed_since)
    for first, last in _runs(days):
        _recompute(session, now, first, last)
    if mark is not None and mark > state.watermark:
        state.watermark = min(mark, now)
    state.refreshed_at = now
    session.flush()
    return RefreshResult(days=len(days), rebuilt=False)


def refresh_days(session: Session, first: date, last: date, *, now: datetime | None = None) -> None:
    """Recompute the given days (after a rule or an exclusion changed a past period by hand)."""
    now = now or clock.now()
    _lock(session)
    _recompute(session, now, first, last)
    session.flush()


def _recompute(session: Session, now: datetime, first: date, last: date) -> None:
    """The day rows of first..last from the raw tables, then their months from the day rows."""
    for model in TABLES:
        session.execute(delete(model).where(model.grain == DAY, model.day >= first, model.day <= last))
    _fill(session, now, facts.day_start(first), facts.day_start(last + timedelta(days=1)))
    _fill_months(session, first, last)

