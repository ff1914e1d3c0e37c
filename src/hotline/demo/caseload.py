"""The demo's caseload, planned before anything is played: who calls, when, from where, about what.

Places are weighted by population (most callers in 夏县, others in 黎城县, 尧都区 and 运城's
counties), calls follow a daily and weekly rhythm with a mild trend and day-to-day noise, and each
case carries the detours its life will take (late stages, returns, extensions, suspensions,
duplicates, and a few tickets held in each open status so every queue has something in it).
"""

from __future__ import annotations

import bisect
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.demo import replies as R
from hotline.demo import texts
from hotline.directory import reference
from hotline.directory.models import DispatchRule, Region, RegionLevel, Unit, UnitKind
from hotline.kit import clock
from hotline.routing.catalogue import suggest_units
from hotline.tickets.models import Ticket
from hotline.tickets.states import Status

# Statuses a few recent tickets are held in, so that every queue of the demo has something in it.
HOLD_TARGETS = (Status.registered, Status.dispatched, Status.accepted, Status.in_progress, Status.suspended,
                Status.return_requested, Status.replied, Status.callback_pending, Status.callback_done)

# Share of callers per county; the rest of 运城's counties share what is left by population.
COUNTY_SHARE = {"140828": 0.45, "141002": 0.12, "140426": 0.10}
OTHER_COUNTIES_PREFIX = "1408"
VILLAGE_SHARE = 0.8  # where villages are known, most callers name their village

HOURLY = (0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 0.9, 2.0, 4.5, 6.5, 6.8, 6.0,
          3.5, 3.0, 5.5, 6.3, 6.0, 5.0, 3.5, 3.0, 2.5, 1.8, 1.0, 0.6)
WEEKDAY = (1.1, 1.0, 1.0, 1.0, 0.95, 0.65, 0.6)
CHANNELS = (("phone", 0.70), ("web", 0.12), ("mobile", 0.15), ("letter", 0.03))
# Weights of first-level categories among problems (not consultations).
PROBLEM_WEIGHTS = {"01": 12, "02": 10, "03": 4, "04": 9, "05": 7, "06": 7, "07": 7, "08": 8, "09": 4, "10": 5,
                   "11": 7, "12": 6, "13": 3, "14": 4, "15": 4, "99": 2}
CONSULT_LEAVES = {"0104": 8, "0204": 8, "0802": 10, "0803": 9, "0901": 6, "1002": 5, "1003": 8, "1201": 3,
                  "1202": 6, "1402": 5, "1501": 14, "9901": 4}

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾薛卫柴贾段裴吕董范原"
GIVEN = ("建国", "建军", "秀英", "桂兰", "玉梅", "志刚", "海燕", "丽娟", "小红", "晓东", "俊峰", "文杰", "红梅",
         "国强", "永红", "春花", "宏伟", "亚楠", "佳琪", "浩然", "子涵", "雨萱", "明", "伟", "芳", "敏", "静", "强",
         "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "超", "霞", "平", "刚", "辉", "鹏", "丹", "宁", "鑫")
MOBILE_PREFIXES = ("130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
                   "153", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182",
                   "183", "184", "185", "186", "187", "188", "189", "191", "198", "199")


@dataclass(frozen=True)
class Where:
    code: str
    place: texts.Place
    township_code: str | None
    county_code: str

    @property
    def label(self) -> str:
        return "".join(p for p in (self.place.county, self.place.township, self.place.village) if p)

    @property
    def short(self) -> str:
        return self.place.village or self.place.township or self.place.county


@dataclass
class Caller:
    name: str | None
    phone: str | None
    anonymous: bool = False
    confidential: bool = False


@dataclass
class Case:
    """One ticket's plan (decided up front) and its progress (while it is played)."""

    received: datetime
    where: Where
    channel: str
    caller: Caller
    text: texts.RequestText
    mode: str = "work"  # work | direct | handoff | refuse | dup
    handoff: tuple[str, str] | None = None  # (service, note)
    late: str | None = None  # the stage this ticket is late on
    detour: str | None = None  # return_before_accept | return_after_accept | suspend | extension | send_back
    hold: Status | None = None
    master: Case | None = None
    dups: list[Case] = field(default_factory=list)
    ticket: Ticket | None = None
    last: datetime | None = None

    @property
    def urgent(self) -> bool:
        return self.text.urgency != "normal"


class World:
    """Reference data and personas read once per run, and the caches behind the hot paths."""

    def __init__(self, session: Session, rng: random.Random, now: datetime, days: int):
        self.rng, self.now, self.days = rng, now, days
        self.session = session
        self.counts: Counter[str] = Counter()
        users = list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)))
        for u in users:
            session.expunge(u)
        self.agents = [u for u in users if u.role == Role.agent] or [None]
        self.dispatchers = [u for u in users if u.role == Role.dispatcher] or [None]
        self.handlers: dict[int, list[User]] = {}
        for u in users:
            if u.role == Role.handler and u.unit_id is not None:
                self.handlers.setdefault(u.unit_id, []).append(u)
        units = session.execute(select(Unit.id, Unit.kind, Unit.region_code, Unit.active).order_by(Unit.id)).all()
        self.gov = {r: i for i, k, r, a in reversed(units) if k == UnitKind.government and a}
        self.township_unit = {r: i for i, k, r, a in reversed(units) if k == UnitKind.township and a}
        self.unit_names = {i: n for i, n in session.execute(select(Unit.id, Unit.name))}
        self.category_names = {code: cat.name for code, cat in reference.snapshot(session).categories.items()}
        self.rule_keys = {(r, c) for r, c in session.execute(select(DispatchRule.region_code,
                                                                     DispatchRule.category_code))}
        self._suggestions: dict[tuple[str, str], tuple[int | None, list[int]]] = {}
        categories = reference.snapshot(session).categories
        self.leaves = [c for c in texts.leaf_categories() if c in categories]
        self._places(session)

    def _places(self, session: Session) -> None:
        rows = session.execute(select(Region.code, Region.short_name, Region.level, Region.parent_code,
                                      Region.population)).all()
        info = {r.code: r for r in rows}
        counties = {r.code: r for r in rows if r.level == RegionLevel.county}
        share = {c: s for c, s in COUNTY_SHARE.items() if c in counties}
        others = [c for c in counties if c.startswith(OTHER_COUNTIES_PREFIX) and c not in share]
        rest = max(0.0, 1.0 - sum(share.values()))
        pop_others = sum(counties[c].population or 1 for c in others) or 1
        for c in others:
            share[c] = rest * (counties[c].population or 1) / pop_others
        self.places: list[Where] = []
        weights: list[float] = []
        for county, county_share in sorted(share.items()):
            towns = [r for r in rows if r.level == RegionLevel.township and r.parent_code == county]
            villages = [r for r in rows if r.level == RegionLevel.village and r.code.startswith(county)]
            groups = [(towns, 1.0)] if not villages else [(villages, VILLAGE_SHARE), (towns, 1 - VILLAGE_SHARE)]
            for group, part in groups:
                total = sum(r.population or 1000 for r in group) or 1
                for r in sorted(group, key=lambda r: r.code):
                    self.places.append(self._where(r, info, counties[county]))
                    weights.append(county_share * part * (r.population or 1000) / total)
        self.place_cum = _cumulative(weights)
        self.by_code = {w.code: w for w in self.places}

    @staticmethod
    def _where(r: Any, info: dict[str, Any], county: Any) -> Where:
        if r.level == RegionLevel.village:
            town = info[r.parent_code]
            return Where(r.code, texts.Place(county.short_name, town.short_name, r.short_name), town.code,
                          county.code)
        return Where(r.code, texts.Place(county.short_name, r.short_name, None), r.code, county.code)

    def pick_place(self) -> Where:
        return self.places[bisect.bisect(self.place_cum, self.rng.random() * self.place_cum[-1])]

    def suggest(self, category: str, region: str) -> tuple[int | None, list[int]]:
        """``suggest_units`` cached by the places and categories that decide its answer: the most
        specific region that has a rule for this category (or its parent), else the county."""
        snap = reference.snapshot(self.session)
        cats = reference.category_path(snap, category)
        path = reference.region_path(snap, region)
        decisive = next((r for r in path if any((r, c) in self.rule_keys for c in cats)), None)
        key = (category, decisive or next((r for r in path if snap.regions[r][1] <= RegionLevel.county), region))
        if key not in self._suggestions:
            s = suggest_units(self.session, category_code=category, region_code=region)
            self._suggestions[key] = (s.lead_unit_id, list(s.co_unit_ids))
        return self._suggestions[key]

    def handler(self, unit_id: int | None) -> User | None:
        staff = self.handlers.get(unit_id or -1)
        return self.rng.choice(staff) if staff else None

    def agent(self) -> User | None:
        return self.rng.choice(self.agents)

    def dispatcher(self) -> User | None:
        return self.rng.choice(self.dispatchers)


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def weighted(rng: random.Random, pairs: tuple[tuple[str, float], ...] | list[tuple[str, float]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


# ---------------------------------------------------------------- planning the caseload


def _day_weights(w: World, days: list[date]) -> list[float]:
    """Weekday rhythm, fewer calls on holidays, a mild upward trend, day-to-day noise, a few busy days."""
    calendar = reference.snapshot(w.session).calendar
    out = []
    for i, day in enumerate(days):
        weight = WEEKDAY[day.weekday()] * (1 + 0.25 * i / max(1, len(days) - 1))
        if day.weekday() < 5 and not calendar.is_workday(day, strict=False):
            weight *= 0.6
        weight *= w.rng.lognormvariate(0, 0.15) * (1.7 if w.rng.random() < 0.03 else 1.0)
        out.append(weight)
    return out


def _received_times(w: World, n: int) -> list[datetime]:
    tz = clock.tz()
    start = w.now - timedelta(days=w.days)
    first, last = start.astimezone(tz).date(), w.now.astimezone(tz).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    day_cum = _cumulative(_day_weights(w, days))
    hour_cum = _cumulative(list(HOURLY))
    out: list[datetime] = []
    while len(out) < n:
        day = days[bisect.bisect(day_cum, w.rng.random() * day_cum[-1])]
        hour = bisect.bisect(hour_cum, w.rng.random() * hour_cum[-1])
        moment = datetime(day.year, day.month, day.day, hour, tzinfo=tz) + timedelta(seconds=w.rng.randrange(3600))
        if start <= moment <= w.now - timedelta(minutes=1):
            out.append(moment.astimezone(start.tzinfo))
    out.sort()
    return out


def _caller(w: World, pool: list[Caller], channel: str) -> Caller:
    rng = w.rng
    if channel == "phone" and rng.random() < 0.05:
        return Caller(None, None, anonymous=True)
    if pool and rng.random() < 0.08:
        return pool[rng.randrange(len(pool))]  # a repeat caller
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"
    caller = Caller(name, phone, confidential=rng.random() < 0.03)
    pool.append(caller)
    return caller


def _text(w: World, where: Where, style: str) -> tuple[texts.RequestText, str]:
    """The request and its mode: about half are consultations, most answered on the spot."""
    rng = w.rng
    if rng.random() < 0.42:
        category = weighted(rng, list(CONSULT_LEAVES.items())) if rng.random() < 0.7 else rng.choice(w.leaves)
        text = texts.compose(rng, where.place, category_code=category, kind="consultation", style=style)
        return text, "direct" if rng.random() < 0.8 else "work"
    top = weighted(rng, list(PROBLEM_WEIGHTS.items()))
    category = rng.choice([c for c in w.leaves if c.startswith(top)])
    text = texts.compose(rng, where.place, category_code=category, style=style)
    return text, "work"


def _emergency(w: World, where: Where) -> tuple[texts.RequestText, tuple[str, str]]:
    service, category, content, note = w.rng.choice(R.EMERGENCIES)
    body = content.format(place=where.label)
    return texts.RequestText(category, "help", "emergency", body[:30], body), (service, note)


def plan(w: World, n: int) -> list[Case]:
    """``n`` cases in order of arrival; duplicates ride along with their master (``Case.dups``)."""
    rng = w.rng
    n_dups = round(n * 0.03)
    pool: list[Caller] = []
    cases: list[Case] = []
    for received in _received_times(w, n - n_dups):
        where = w.pick_place()
        channel = weighted(rng, CHANNELS)
        style = "citizen" if channel in ("web", "mobile") else "agent"
        case = Case(received, where, channel, _caller(w, pool, channel), None)  # type: ignore[arg-type]
        roll = rng.random()
        if roll < 0.014 and channel == "phone":
            case.text, case.handoff = _emergency(w, where)
            case.mode = "handoff"
        else:
            case.text, case.mode = _text(w, where, style)
            if roll > 0.99:
                case.mode = "refuse"
        if case.mode == "work":
            _plan_detours(rng, case)
        cases.append(case)
    _plan_duplicates(w, cases, n_dups, pool)
    _plan_holds(cases, len(cases))
    return cases


def _plan_detours(rng: random.Random, case: Case) -> None:
    if rng.random() < 0.08:
        case.late = rng.choice(("dispatch", "accept", "accept", "contact", "reply", "reply", "reply"))
    roll = rng.random()
    for name, share in (("return_before_accept", 0.012), ("return_after_accept", 0.028), ("extension", 0.03),
                        ("suspend", 0.02), ("send_back", 0.03)):
        if roll < share:
            case.detour = name
            return
        roll -= share


def _plan_duplicates(w: World, cases: list[Case], n_dups: int, pool: list[Caller]) -> None:
    """并单: a second caller about the same problem within hours, merged into the first ticket."""
    rng = w.rng
    candidates = [c for c in cases if c.mode == "work" and not c.detour and c.text.kind != "consultation"]
    for master in rng.sample(candidates, min(n_dups, len(candidates))):
        gap = timedelta(minutes=rng.uniform(15, 300))
        received = min(master.received + gap, master.received + (w.now - master.received) / 2)
        channel = weighted(rng, CHANNELS)
        dup = Case(received, master.where, channel, _caller(w, pool, channel),
                    texts.paraphrase(rng, master.text, master.where.place), mode="dup", master=master)
        master.dups.append(dup)


def _plan_holds(cases: list[Case], n: int) -> None:
    """Hold the newest dispatched tickets, oldest first, in each open status in turn."""
    per_target = max(1, n // 400)
    candidates = [c for c in cases if c.mode == "work" and not c.dups and not c.detour]
    chosen = candidates[-per_target * len(HOLD_TARGETS):]
    for i, case in enumerate(chosen):
        case.hold = HOLD_TARGETS[i % len(HOLD_TARGETS)]
        case.late = None
        if case.hold == Status.suspended:
            case.detour = "suspend"
        elif case.hold == Status.return_requested:
            case.detour = "return_after_accept"
