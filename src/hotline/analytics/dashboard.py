"""The dashboards' queries: volume by channel and kind, category × region heat, the county map,
deadline performance and overdue by unit, the satisfaction trend and the wall display's overview.

Each reads the rollups; ``raw=True`` computes the same figure with a plain aggregate over the raw
tables (the benchmark times both and checks they agree). Only "overdue now" and "open now" are
live: they look at open tickets through the status and partial indexes, never at the closed history.
"Overdue now" is the supervision board's 超期: an open ticket past the due time of any stage still
running (派单, 签收, 联系来电人, 反馈; ``tickets.queries.overdue_clause``), not the reply alone.

Every figure takes ``region_code``: only the tickets placed in that region (and everything inside
it). The rollups serve it: heat and county figures by township, the 三率 trend from the township
rows, volume by channel or kind from the rows by county (``IntakeByCounty``), deadlines per unit
from the rows keyed county and unit (``facts.UNIT_AREA``); for a region below a county (a
township, through the API) volume and deadlines count its tickets in the raw tables through the
(region_code, received_at) and order indexes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hotline.analytics import facts, rates, rollups
from hotline.analytics.models import Assessment, IntakeByArea, IntakeByChannel, IntakeByCounty
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import Invalid
from hotline.tickets.models import Channel, Ticket
from hotline.tickets.queries import overdue_clause
from hotline.tickets.sla import RUNNING
from hotline.tickets.states import OPEN, Status

T = facts.T

Granularity = Literal["day", "month"]
# A range longer than this many days (first to last) draws its 三率 trend by month: two months of
# days still read as a line, a year of days (365 points) does not.
DAILY_TREND_MOST_DAYS = 62


# The longest run of days the dashboards count, first to last inclusive: the /analytics page and
# ``GET /api/v1/analytics/dashboard`` refuse a longer one alike (:func:`check_span`).
MAX_DAYS = 366


def check_span(first: date, last: date, field: str = "last") -> None:
    """``Invalid`` (「时间段最长 366 天」) for a range of more than ``MAX_DAYS`` days."""
    if (last - first).days >= MAX_DAYS:
        raise Invalid(f"时间段最长 {MAX_DAYS} 天", code="period_too_long", details={"field": field})


def _month(day: date, start_day: int) -> str:
    """'2026-01': the assessment month ``day`` is counted in."""
    year, month = rates.month_of(day, start_day)
    return f"{year}-{month:02d}"


def trend_granularity(first: date, last: date) -> Granularity:
    """The one rule for the 三率 trend's points, the page's and the API's: per day up to
    ``DAILY_TREND_MOST_DAYS`` days from ``first`` to ``last``, per assessment month beyond."""
    return "month" if (last - first).days > DAILY_TREND_MOST_DAYS else "day"


def _range(first: date, last: date) -> tuple[datetime, datetime]:
    return facts.day_start(first), facts.day_start(last + timedelta(days=1))


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def volume(session: Session, first: date, last: date, *, by: str = "channel", raw: bool = False,
           region_code: str | None = None) -> dict[str, dict[str, int]]:
    """Tickets received per day, split by ``channel``, ``kind`` or ``urgency``: {day: {value: n}}
    (of ``region_code`` when given: a county's, or a city's, from the rollup by county; a township's
    tickets are counted from the raw tables)."""
    if by not in ("channel", "kind", "urgency"):
        raise ValueError(by)
    if raw or region_code and not facts.rolled_up(region_code):
        day = facts.local_day(T.received_at, session.get_bind().dialect.name)
        start, end = _range(first, last)
        q = select(day, T[by], func.count()).where(T.received_at >= start, T.received_at < end)
        if region_code:
            q = q.where(facts.within(T.region_code, region_code))
        q = q.group_by(day, T[by])
    else:
        model = IntakeByCounty if region_code else IntakeByChannel
        col = getattr(model, by)
        q = select(model.day, col, func.sum(model.tickets)).where(model.grain == rollups.DAY, model.day >= first,
                                                                  model.day <= last)
        if region_code:  # a county's rows are one range of the key: (grain, county_code, day, ...)
            q = q.where(facts.within(model.county_code, region_code))
        q = q.group_by(model.day, col)
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for d, value, n in session.execute(q):
        out[_day(d).isoformat()][_value(by, value)] = int(n)
    return dict(sorted(out.items()))


def _value(by: str, value: object) -> str:
    """The enum's value whichever way it came: the raw column reads it as the enum, the rollup
    holds the stored text, which is the member's name (``import_`` for the channel ``import``)."""
    if by == "channel" and isinstance(value, str) and value in Channel.__members__:
        return Channel[value].value
    return str(value)


def _area_length(region_code: str | None) -> int:
    """Group by counties under a city (or the whole area), by townships under a county."""
    if region_code is None or len(region_code) <= 4:
        return 6
    return 9


def heat(session: Session, first: date, last: date, *, region_code: str | None = None,
         raw: bool = False) -> dict[tuple[str, str], int]:
    """Tickets per (category_top, area) where the area is a county, or a township inside the given
    county: the category × region heat map."""
    length = _area_length(region_code)
    if raw:
        start, end = _range(first, last)
        area = func.substr(T.region_code, 1, length)
        cat = func.substr(T.category_code, 1, 2)
        q = select(cat, area, func.count()).where(T.received_at >= start, T.received_at < end)
        if region_code:
            q = q.where(T.region_code.startswith(region_code))
        q = q.group_by(cat, area)
    else:
        area = func.substr(IntakeByArea.township_code, 1, length)
        q = (select(IntakeByArea.category_top, area, func.sum(IntakeByArea.tickets))
             .where(rollups.span(IntakeByArea, first, last)))
        if region_code:
            q = q.where(IntakeByArea.township_code.startswith(region_code))
        q = q.group_by(IntakeByArea.category_top, area)
    return {(str(c), str(a)): int(n) for c, a, n in session.execute(q) if len(str(a)) == length}


def by_county(session: Session, first: date, last: date, *, raw: bool = False) -> dict[str, int]:
    """Tickets per county (the county map)."""
    out: dict[str, int] = defaultdict(int)
    for (_, county), n in heat(session, first, last, raw=raw).items():
        out[county] += n
    return dict(out)


def deadlines_by_unit(session: Session, first: date, last: date, *, raw: bool = False,
                      region_code: str | None = None) -> list[dict]:
    """Per lead unit: answers given in the period, the share on time, and tickets overdue now (on
    the tickets of ``region_code`` when given: a county's, or a city's, from the rollup's rows by
    county and unit; a township's counted from the raw tables)."""
    if raw or region_code and not facts.rolled_up(region_code):
        counts = rates.raw_counts(session, "unit", first, last, region_code=region_code)
    else:
        counts = rates.rollup_counts(session, "unit", first, last, region_code=region_code)
    overdue = overdue_now(session, region_code=region_code)
    snap = reference.snapshot(session)
    rows = []
    for key in set(counts) | {str(u) for u in overdue}:
        c = counts.get(key, {})
        replied, on_time = int(c.get("replied", 0)), int(c.get("replied_on_time", 0))
        if not replied and not overdue.get(int(key), 0):
            continue
        unit = snap.units.get(int(key))
        rows.append({"unit_id": int(key), "unit": unit[1] if unit else key, "replied": replied,
                     "on_time": on_time, "on_time_rate": on_time / replied if replied else None,
                     "overdue_now": overdue.get(int(key), 0)})
    rows.sort(key=lambda r: (-r["overdue_now"], r["on_time_rate"] if r["on_time_rate"] is not None else 2,
                             r["unit_id"]))
    return rows


# Every status some stage's clock runs in, said once more beside the per-stage terms: SQLite then
# reads the few open tickets through the status index, not the whole history.
RUNNING_STATUSES = tuple(dict.fromkeys(s for statuses in RUNNING.values() for s in statuses))


def overdue_query(now: datetime, region_code: str | None = None) -> Select:
    """The lead unit of each open ticket overdue at ``now`` (None: not dispatched yet, late for 派单).
    Counted in Python: a GROUP BY here has SQLite walk the lead-unit index over every ticket."""
    q = select(T.lead_unit_id).where(T.status.in_([Status(s) for s in RUNNING_STATUSES]), overdue_clause(now))
    return q.where(facts.within(T.region_code, region_code, indexed=False)) if region_code else q


def _overdue(session: Session, now: datetime | None, region_code: str | None) -> dict[int | None, int]:
    q = overdue_query(now or clock.now(), region_code)
    return dict(Counter(int(u) if u is not None else None for u in session.scalars(q)))


def overdue_now(session: Session, now: datetime | None = None, *, region_code: str | None = None) -> dict[int, int]:
    """Open tickets overdue right now (any running stage, as the supervision board counts them), per
    lead unit."""
    return {u: n for u, n in _overdue(session, now, region_code).items() if u is not None}


def overdue_total(session: Session, now: datetime | None = None, *, region_code: str | None = None) -> int:
    """Every open ticket overdue right now, with those still waiting to be dispatched: the
    supervision board's 超期工单 total."""
    return sum(_overdue(session, now, region_code).values())


def satisfaction_trend(session: Session, first: date, last: date, *, monthly: bool = False,
                       raw: bool = False, region_code: str | None = None) -> list[dict]:
    """The centre's 三率 per day (or assessment month, ``assessment.period_start_day``: the month a
    ranking of that month counts, and a click on the point lists): evaluated callbacks and the rates; those of the tickets
    of ``region_code`` when given (the rollup's township rows inside it: a township key is its
    ticket's region code cut to the township, so it lies inside the region when the ticket does)."""
    rules = rates.current_rules(session)
    if raw:
        daily = facts.daily_facts("all", session.get_bind().dialect.name, clock.now(),
                                  start=facts.day_start(first), end=facts.day_start(last + timedelta(days=1)),
                                  region_code=region_code)
        rows = [(_day(r[0]), dict(zip(facts.MEASURES, r[2:], strict=True))) for r in session.execute(daily)]
    else:
        dimension = [Assessment.dimension == "township", facts.within(Assessment.key, region_code)] if region_code \
            else [Assessment.dimension == "all"]
        q = (select(Assessment.day, *[getattr(Assessment, m) for m in facts.MEASURES])
             .where(*dimension, Assessment.grain == rollups.DAY, Assessment.day >= first,
                    Assessment.day <= last))
        rows = [(_day(r[0]), dict(zip(facts.MEASURES, r[1:], strict=True))) for r in session.execute(q)]
    buckets: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(facts.MEASURES, 0))
    for day, counts in rows:
        bucket = buckets[_month(day, rules.period_start_day) if monthly else day.isoformat()]
        for m, v in counts.items():
            bucket[m] += int(v or 0)
    out = []
    for label, counts in sorted(buckets.items()):
        f = rates.compute("", "", counts, rules)
        out.append({"period": label, "evaluated": counts["evaluated"], "response_rate": f.response_rate,
                    "resolution_rate": f.resolution_rate, "satisfaction_rate": f.satisfaction_rate})
    return out


def board(session: Session, first: date, last: date, *, region_code: str | None = None) -> dict:
    """Every series of the dashboard, as the page (``/analytics``) and the API
    (``/api/v1/analytics/dashboard``) both show it: volume by channel and kind, the heat map,
    deadlines and overdue by unit, the 三率 trend (per day or per month by ``trend_granularity``,
    which it names), open and overdue now, all of ``region_code``'s tickets when given (the heat map
    then by township inside it); only the county figures (``by_county``) stay the city's, since they
    are how a county is picked."""
    granularity = trend_granularity(first, last)
    county_heat = heat(session, first, last)
    per_county: dict[str, int] = defaultdict(int)
    for (_, county), n in county_heat.items():
        per_county[county] += n
    return {
        "volume_by_channel": volume(session, first, last, by="channel", region_code=region_code),
        "volume_by_kind": volume(session, first, last, by="kind", region_code=region_code),
        "heat": heat(session, first, last, region_code=region_code) if region_code else county_heat,
        "by_county": dict(per_county),
        "deadlines_by_unit": deadlines_by_unit(session, first, last, region_code=region_code),
        "satisfaction_trend": satisfaction_trend(session, first, last, monthly=granularity == "month",
                                                 region_code=region_code),
        "trend_granularity": granularity,
        "open_now": open_now(session, region_code=region_code),
        "overdue_now": overdue_total(session, region_code=region_code),
    }


def hourly_today(session: Session, now: datetime) -> list[int]:
    """Tickets received today per local hour (a small range of today's rows)."""
    start = facts.day_start(clock.local(now).date())
    counts = [0] * 24
    for (at,) in session.execute(select(T.received_at).where(T.received_at >= start, T.received_at <= now)):
        at = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        counts[clock.local(clock.aware(at) if at.tzinfo is None else at).hour] += 1
    return counts


def open_now(session: Session, *, region_code: str | None = None) -> int:
    open_ = T.status.in_([s.value for s in OPEN])
    q = select(func.count()).select_from(Ticket)
    if region_code:
        # the open tickets' ids through the status index (covering), then each one's region: SQLite's
        # statistics see few statuses, so it scans every ticket for the plain status IN ... AND region
        q = q.where(T.id.in_(select(T.id).where(open_)), facts.within(T.region_code, region_code, indexed=False))
    else:
        q = q.where(open_)
    return int(session.scalar(q) or 0)


def overview(session: Session, *, now: datetime | None = None, raw: bool = False) -> dict:
    """The wall display (大屏): today, this month, the centre's rates, open and overdue now, best and
    worst units of the month (``raw``: the same from the raw tables)."""
    now = now or clock.now()
    today = clock.local(now).date()
    rules = rates.current_rules(session)
    year, month = rates.month_of(today, rules.period_start_day)
    first, last = rates.month_period(year, month, rules.period_start_day)
    last = min(last, today)
    vol_today = volume(session, today, today, raw=raw)
    vol_month = volume(session, first, last, raw=raw)
    centre = rates.table(session, "all", first, last, raw=raw, rules=rules)
    units = [u for u in rates.table(session, "unit", first, last, raw=raw, rules=rules) if u.rank is not None]
    return {
        "today": today.isoformat(),
        "month": f"{year}-{month:02d}",
        "received_today": sum(vol_today.get(today.isoformat(), {}).values()),
        "received_month": sum(sum(v.values()) for v in vol_month.values()),
        "by_channel_today": vol_today.get(today.isoformat(), {}),
        "open_now": open_now(session),
        "overdue_now": overdue_total(session, now),
        "rates": centre[0] if centre else None,
        "best_units": units[:5],
        # the bottom five, never repeating one of the top five when fewer than ten are ranked
        "worst_units": list(reversed(units[5:]))[:5],
        "daily": vol_month,
    }
