"""三率 and the composite score per unit, township or category for any run of days, and the monthly
rankings. Read from the rollups (fast at any history size); ``raw=True`` computes the same figures
with the plain aggregate over the raw tables (tests and the benchmark compare the two).

The rules (weights, whether approved returns and 基本满意 count, when the assessment month starts,
the fewest orders to be ranked) are read when the figures are asked for, so changing one never
needs a rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.analytics import facts, rollups
from hotline.analytics.models import Assessment
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import Invalid

# The days any figure or report may cover: no hotline data is older than 2000 (as a ticket's
# 受理时间), and the assessment pages take years up to 2100; a day far beyond would run the month
# arithmetic past the year 9999.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


def check_day(day: date, field: str = "day") -> date:
    """``day`` if it lies in FIRST_DAY..LAST_DAY, else ``Invalid`` naming the range."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid(f"日期须在 {FIRST_DAY} 至 {LAST_DAY} 之间，收到 {day}", code="date_out_of_range",
                      details={"field": field})
    return day


@dataclass(frozen=True)
class AssessmentRules:
    weights: tuple[float, float, float]  # response, resolution, satisfaction
    exclude_approved_returns: bool
    count_basically_satisfied: bool
    period_start_day: int
    min_orders_ranked: int


def current_rules(session: Session) -> AssessmentRules:
    r = reference.snapshot(session).rules
    return AssessmentRules(
        weights=(float(r["assessment.weight_response"]), float(r["assessment.weight_resolution"]),
                 float(r["assessment.weight_satisfaction"])),
        exclude_approved_returns=bool(r["assessment.exclude_approved_returns"]),
        count_basically_satisfied=bool(r["assessment.count_basically_satisfied"]),
        period_start_day=int(r["assessment.period_start_day"]),
        min_orders_ranked=int(r["assessment.min_orders_ranked"]),
    )


@dataclass
class Figures:
    """One row of an assessment table: the counts, the three rates (None when nothing was counted)
    and the composite score out of 100."""

    key: str
    label: str
    counts: dict[str, int]
    response_base: int = 0
    responded: int = 0
    satisfied: int = 0  # the satisfaction rate's numerator: 满意, and 基本满意 when the rule counts it
    response_rate: float | None = None
    resolution_rate: float | None = None
    satisfaction_rate: float | None = None
    on_time_rate: float | None = None
    score: float | None = None
    rank: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def not_responded(self) -> int:
        return self.response_base - self.responded


def month_period(year: int, month: int, start_day: int = 1) -> tuple[date, date]:
    """The first and last day of assessment month (year, month): with ``start_day`` 26, December
    runs from 26 November to 25 December."""
    if start_day <= 1:
        first = date(year, month, 1)
        nxt = date(year + month // 12, month % 12 + 1, 1)
        return first, nxt - timedelta(days=1)
    prev = date(year - (month == 1), 12 if month == 1 else month - 1, start_day)
    return prev, date(year, month, start_day) - timedelta(days=1)


def month_of(day: date, start_day: int = 1) -> tuple[int, int]:
    """The assessment month a day falls in."""
    if start_day > 1 and day.day >= start_day:
        return (day.year + day.month // 12, day.month % 12 + 1)
    return day.year, day.month


def compute(key: str, label: str, counts: dict[str, int], rules: AssessmentRules) -> Figures:
    """The rates and score of one row of counts, by the rules."""
    c = {m: int(counts.get(m) or 0) for m in facts.MEASURES}
    base = c["orders"] - c["pending"]
    responded = c["responded"]
    if not rules.exclude_approved_returns:
        base += c["returned"]
        responded += c["returned_responded"]
    satisfied = c["satisfied"] + (c["basically_satisfied"] if rules.count_basically_satisfied else 0)
    f = Figures(key=key, label=label, counts=c, response_base=base, responded=responded, satisfied=satisfied)
    f.response_rate = responded / base if base else None
    if c["evaluated"]:
        f.resolution_rate = c["resolved"] / c["evaluated"]
        f.satisfaction_rate = satisfied / c["evaluated"]
    f.on_time_rate = c["replied_on_time"] / c["replied"] if c["replied"] else None
    parts = [(w, r) for w, r in zip(rules.weights, (f.response_rate, f.resolution_rate, f.satisfaction_rate),
                                    strict=True) if r is not None and w > 0]
    weight = sum(w for w, _ in parts)
    f.score = round(100 * sum(w * r for w, r in parts) / weight, 2) if weight else None
    return f


def rollup_counts(session: Session, dimension: str, first: date, last: date, *,
                  region_code: str | None = None) -> dict[str, dict[str, int]]:
    """Summed rollup counts per key over the days first..last; per unit, of the tickets of
    ``region_code`` (a county or a region above it, ``facts.rolled_up``), from the rows keyed county
    then unit (``facts.UNIT_AREA``: "140828:12" starts with the region's code when its county lies
    in the region)."""
    sums = [func.sum(getattr(Assessment, m)) for m in facts.MEASURES]
    if region_code is None:
        q = (select(Assessment.key, *sums)
             .where(Assessment.dimension == dimension, rollups.span(Assessment, first, last))
             .group_by(Assessment.key))
        return {row[0]: dict(zip(facts.MEASURES, (int(v or 0) for v in row[1:]), strict=True))
                for row in session.execute(q)}
    if dimension != "unit" or not facts.rolled_up(region_code):
        raise ValueError(f"no rollup of {dimension!r} by {region_code!r}")
    # SQLite compares keys byte by byte, so the county's keys are a range of ix_rollup_assessment_key
    # ("140828:12" lies from 140828 to before 140829, ':' sorting after the digits); PostgreSQL's
    # collation may ignore the ':', so it matches the prefix instead.
    county = facts.within(Assessment.key, region_code) if session.get_bind().dialect.name == "sqlite" \
        else Assessment.key.startswith(region_code)
    q = (select(Assessment.key, *sums)
         .where(Assessment.dimension == facts.UNIT_AREA, county, rollups.span(Assessment, first, last))
         .group_by(Assessment.key))
    out: dict[str, dict[str, int]] = {}
    for row in session.execute(q):
        counts = out.setdefault(row[0].split(":", 1)[1], dict.fromkeys(facts.MEASURES, 0))
        for m, v in zip(facts.MEASURES, row[1:], strict=True):
            counts[m] += int(v or 0)
    return out


def raw_counts(session: Session, dimension: str, first: date, last: date,
               now: datetime | None = None, *, region_code: str | None = None) -> dict[str, dict[str, int]]:
    """The same counts straight from the raw tables (no rollup); only the tickets placed in
    ``region_code`` (and everything inside it) when given."""
    now = now or clock.now()
    o, c = facts.period_facts(dimension, now, facts.day_start(first), facts.day_start(last + timedelta(days=1)),
                              region_code=region_code)
    out: dict[str, dict[str, int]] = {}
    for row in session.execute(o):
        out.setdefault(row[0], {m: 0 for m in facts.MEASURES}).update(
            zip(facts.ORDER_MEASURES, (int(v or 0) for v in row[1:]), strict=True))
    for row in session.execute(c):
        out.setdefault(row[0], {m: 0 for m in facts.MEASURES}).update(
            zip(facts.CALLBACK_MEASURES, (int(v or 0) for v in row[1:]), strict=True))
    return out


def label_of(session: Session, dimension: str, key: str) -> str:
    snap = reference.snapshot(session)
    if dimension == "unit":
        unit = snap.units.get(int(key)) if key.isdigit() else None
        return unit[1] if unit else key
    if dimension == "township":
        return reference.region_label(snap, key) if key in snap.regions else key
    if dimension == "category":
        cat = snap.categories.get(key)
        return cat.name if cat else key
    return "全部"


def table(session: Session, dimension: str, first: date, last: date, *, raw: bool = False,
          rules: AssessmentRules | None = None) -> list[Figures]:
    """Every key's figures for the days first..last, best score first, ranked by the rules."""
    rules = rules or current_rules(session)
    counts = (raw_counts if raw else rollup_counts)(session, dimension, first, last)
    rows = [compute(key, label_of(session, dimension, key), c, rules) for key, c in counts.items()]
    return rank(rows, rules)


def rank(rows: list[Figures], rules: AssessmentRules) -> list[Figures]:
    """Order by score (then response base, then key); rows with fewer orders than the rule asks for
    are listed after the ranked ones, unranked. Ties share a rank (1, 2, 2, 4)."""
    ranked = [r for r in rows if r.score is not None and r.response_base >= rules.min_orders_ranked]
    others = [r for r in rows if r not in ranked]
    ranked.sort(key=lambda r: (-(r.score or 0), -r.response_base, r.key))
    previous: tuple[float | None, int] | None = None
    for i, r in enumerate(ranked, start=1):
        r.rank = previous[1] if previous and previous[0] == r.score else i
        previous = (r.score, r.rank)
    for r in others:
        r.notes.append(f"派单量不足 {rules.min_orders_ranked}，不参加排名" if r.score is not None else "无考核数据")
    others.sort(key=lambda r: (-(r.response_base), r.key))
    return ranked + others


def monthly_ranking(session: Session, dimension: str, year: int, month: int, *, raw: bool = False) -> list[Figures]:
    """The monthly ranking of units (or townships, or categories) for assessment month (year, month)."""
    rules = current_rules(session)
    first, last = month_period(year, month, rules.period_start_day)
    return table(session, dimension, first, last, raw=raw, rules=rules)


def trend(session: Session, first: date, last: date, *, dimension: str = "all", key: str = "") -> list[dict]:
    """Per-day counts and rates for one key (the whole centre by default): the satisfaction trend."""
    rules = current_rules(session)
    q = (select(Assessment.day, *[getattr(Assessment, m) for m in facts.MEASURES])
         .where(Assessment.dimension == dimension, Assessment.grain == rollups.DAY, Assessment.key == key,
                Assessment.day >= first, Assessment.day <= last).order_by(Assessment.day))
    out = []
    for row in session.execute(q):
        f = compute(key, "", dict(zip(facts.MEASURES, row[1:], strict=True)), rules)
        out.append({"day": row[0], "response_rate": f.response_rate, "resolution_rate": f.resolution_rate,
                    "satisfaction_rate": f.satisfaction_rate, "evaluated": f.counts["evaluated"],
                    "orders": f.counts["orders"]})
    return out
