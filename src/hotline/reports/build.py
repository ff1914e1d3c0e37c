"""The briefings (日报 / 周报 / 月报): one :class:`Report` holding every figure the HTML and the Excel
workbook show, read from the analytics layer (the rollups, so call ``rollups.rebuild`` or let the
worker refresh them first).

What a report holds, for its period and the one before:

- volume: tickets received, by channel and by request kind, with the change from the previous
  period (same length: the day, week or assessment month before);
- the centre's 三率 (response, resolution, satisfaction), on-time reply rate and composite score,
  now and in the previous period;
- the rankings of handling units and of townships (三率 + composite score, by the assessment rules:
  rows with fewer orders than the rule asks are listed unranked, with the reason);
- the hot spots (热点) of the period, hottest first (``analytics.hotspots``);
- the 每月一题 candidates (``reports.problems``: the same category in the same township among the
  month's top problems in at least 2 of the last 3 assessment months).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.analytics import dashboard, hotspots, rates
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import Invalid
from hotline.reports import periods, problems
from hotline.reports.periods import Period
from hotline.tickets.models import Ticket
from hotline.tickets.views import CHANNEL_LABELS, KIND_LABELS

HOT_SPOTS = 5  # hot spots listed
HOT_SPOT_TICKETS = 10  # ticket numbers shown per hot spot


@dataclass
class Share:
    """One line of a volume breakdown: this period, the previous one, and the change."""

    key: str
    label: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def change_rate(self) -> float | None:
        return self.change / self.previous if self.previous else None


@dataclass
class Volume:
    total: Share
    by_channel: list[Share]
    by_kind: list[Share]


@dataclass
class HotSpotRow:
    rank: int
    label: str
    heat: float
    size: int
    category: str
    area: str
    keywords: list[str]
    ticket_ids: list[int]
    ticket_numbers: list[str]  # the first HOT_SPOT_TICKETS, oldest first


@dataclass
class Report:
    kind: str
    period: Period
    previous: Period
    generated_at: datetime
    rules: rates.AssessmentRules
    volume: Volume
    centre: rates.Figures | None
    previous_centre: rates.Figures | None
    units: list[rates.Figures]
    townships: list[rates.Figures]
    hot_spots: list[HotSpotRow]
    problem_months: list[Period]
    problems: list[problems.Candidate]
    notes: list[str] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return periods.KIND_LABELS[self.kind]

    @property
    def title(self) -> str:
        return f"12345 政务服务便民热线{self.kind_label} · {self.period.title}"

    @property
    def ranked_units(self) -> list[rates.Figures]:
        return [f for f in self.units if f.rank is not None]


def _sum_volume(session: Session, p: Period, by: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for per_day in dashboard.volume(session, p.first, p.last, by=by).values():
        for key, n in per_day.items():
            out[key] = out.get(key, 0) + n
    return out


def _shares(now: dict[str, int], before: dict[str, int], labels: dict[str, str]) -> list[Share]:
    rows = [Share(k, labels.get(k, k), now.get(k, 0), before.get(k, 0)) for k in set(now) | set(before)]
    rows.sort(key=lambda s: (-s.count, -s.previous, s.key))
    return rows


def volume(session: Session, period: Period, previous: Period) -> Volume:
    """Tickets received in ``period`` by channel and kind, beside ``previous``."""
    channel, channel_before = _sum_volume(session, period, "channel"), _sum_volume(session, previous, "channel")
    kind, kind_before = _sum_volume(session, period, "kind"), _sum_volume(session, previous, "kind")
    total = Share("", "合计", sum(channel.values()), sum(channel_before.values()))
    return Volume(total, _shares(channel, channel_before, CHANNEL_LABELS), _shares(kind, kind_before, KIND_LABELS))


def _centre(session: Session, p: Period, rules: rates.AssessmentRules) -> rates.Figures | None:
    rows = rates.table(session, "all", p.first, p.last, rules=rules)
    return rows[0] if rows else None


def hot_spot_rows(session: Session, period: Period, top: int = HOT_SPOTS) -> list[HotSpotRow]:
    """The period's hottest hot spots, with the category and area named and ticket numbers."""
    found = hotspots.hot_spots(session, start=period.start, end=period.end, top=top)
    snap = reference.snapshot(session)
    wanted = [i for h in found for i in list(h.ticket_ids)[:HOT_SPOT_TICKETS]]
    numbers = dict(session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(wanted))).all()) if wanted else {}
    rows = []
    for i, h in enumerate(found, start=1):
        cat = snap.categories.get(getattr(h, "category_code", "") or "")
        area = getattr(h, "area_code", "") or ""
        ids = [int(x) for x in h.ticket_ids]
        rows.append(HotSpotRow(
            rank=i, label=h.label, heat=float(h.heat), size=int(getattr(h, "size", len(ids))),
            category=cat.name if cat else getattr(h, "category_code", ""),
            area=reference.region_label(snap, area) if area in snap.regions else area,
            keywords=list(getattr(h, "keywords", []) or []), ticket_ids=ids,
            ticket_numbers=[numbers[x] for x in ids[:HOT_SPOT_TICKETS] if x in numbers]))
    return rows


def build(session: Session, kind: str, day: date, *, now: datetime | None = None) -> Report:
    """The ``kind`` briefing ('daily', 'weekly' or 'monthly') of the period holding ``day``: that
    local day; the Monday–Sunday week; the assessment month (``assessment.period_start_day``)."""
    rules = rates.current_rules(session)
    if day < periods.EARLIEST:
        raise Invalid(f"报表日期不能早于 {periods.EARLIEST}（平台没有更早的数据），收到 {day}", code="period_too_early",
                      details={"field": "day"})
    if day > rates.LAST_DAY:  # far beyond any period under way (its month would pass the year 9999)
        raise Invalid(f"报表日期不能晚于 {rates.LAST_DAY}，收到 {day}；请选择今天或以前的日期", code="future_period",
                      details={"field": "day"})
    period = periods.period_of(kind, day, rules.period_start_day)
    if period.first > clock.local(now).date():  # nothing has happened in it yet: an all-zero report
        raise Invalid(f"{period.title}尚未开始，不能生成报表；请选择今天或以前的日期", code="future_period",
                      details={"field": "day"})
    before = periods.previous(period, rules.period_start_day)
    months = periods.months_back(period, problems.MONTHS, rules.period_start_day)
    report = Report(
        kind=kind, period=period, previous=before, generated_at=now or clock.now(), rules=rules,
        volume=volume(session, period, before),
        centre=_centre(session, period, rules), previous_centre=_centre(session, before, rules),
        units=rates.table(session, "unit", period.first, period.last, rules=rules),
        townships=rates.table(session, "township", period.first, period.last, rules=rules),
        hot_spots=hot_spot_rows(session, period),
        problem_months=months, problems=problems.candidates(session, months, last_day=period.last),
    )
    today = clock.local(report.generated_at).date()
    if period.last >= today:
        report.notes.append(f"本期尚未结束（截至 {clock.local(report.generated_at):%Y-%m-%d %H:%M}），数据为期中统计。")
    if not report.ranked_units and report.units:
        report.notes.append(f"各单位派单量均不足 {rules.min_orders_ranked} 件，本期不排名，仅列示三率。")
    return report
