"""The full-employment village standard (充分就业村), computed from the ledger, never stored.

For each village with a station:
- labour force (劳动力) = ledger workers able and willing to work (all but 无就业意愿 and 无劳动能力);
- employed (已就业) = those in work: 稳定就业, 灵活就业, 季节性务工;
- employment rate = employed / labour force;
- the six ones (六个一) of the year: which of the six activity kinds were held in that calendar year.

A village meets the standard when its labour force is not empty, its employment rate is at least
the rule ``employment.min_rate`` (default 0.9), and, while ``employment.require_six_ones`` is on
(default), all six kinds of activity were held in the year. Both rules are operating settings
(``directory/settings.py``) that admins change on the settings page or ``PUT /api/v1/settings``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.employment.models import (
    ABLE_WILLING,
    ACTIVITY_LABELS,
    WORKING,
    Activity,
    ActivityKind,
    EmploymentStatus,
    Station,
    Worker,
)
from hotline.employment.scope import LedgerScope
from hotline.kit import clock


@dataclass
class VillageFigures:
    village_code: str
    village: str
    township: str
    station: str
    registered: int = 0
    labour_force: int = 0
    employed: int = 0
    stable: int = 0
    unemployed: int = 0
    needs_help: int = 0
    held: dict[ActivityKind, int] = field(default_factory=dict)
    min_rate: float = 0.9
    require_six_ones: bool = True

    @property
    def rate(self) -> float | None:
        return self.employed / self.labour_force if self.labour_force else None

    @property
    def short(self) -> int:
        """How many more people in work the rate needs."""
        needed = math.ceil(self.min_rate * self.labour_force - 1e-9)
        return max(0, needed - self.employed)

    @property
    def missing(self) -> list[ActivityKind]:
        return [k for k in ActivityKind if not self.held.get(k)]

    @property
    def meets(self) -> bool:
        return (self.labour_force > 0 and self.short == 0
                and (not self.require_six_ones or not self.missing))

    @property
    def gaps(self) -> list[str]:
        """What keeps the village from the standard, in words."""
        out = []
        if self.labour_force == 0:
            out.append("台账中没有有劳动能力且有就业意愿的人员")
        elif self.short:
            out.append(f"就业率 {self.rate:.1%}，低于 {self.min_rate:.0%}，还需 {self.short} 人就业")
        if self.require_six_ones and self.missing:
            out.append("本年度未开展：" + "、".join(ACTIVITY_LABELS[k] for k in self.missing))
        return out


def year_span(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def villages(session: Session, scope: LedgerScope, *, year: int | None = None,
             village_code: str | None = None) -> list[VillageFigures]:
    """The figures of every station village in scope (or of one), in region-code order."""
    year = year or clock.local().year
    snap = reference.snapshot(session)
    rules = snap.rules
    q = select(Station).where(scope.clause(Station.village_code)).order_by(Station.village_code)
    if village_code:
        q = q.where(Station.village_code == village_code)
    out: dict[str, VillageFigures] = {}
    for s in session.scalars(q):
        name, _level, parent = snap.regions.get(s.village_code, (s.village_code, 5, None))
        out[s.village_code] = VillageFigures(
            s.village_code, name, snap.regions[parent][0] if parent in snap.regions else "", s.name,
            min_rate=float(rules.get("employment.min_rate", 0.9)),
            require_six_ones=bool(rules.get("employment.require_six_ones", True)))
    if not out:
        return []
    codes = list(out)
    counts = session.execute(
        select(Worker.village_code, Worker.employment_status, Worker.needs_help, func.count())
        .where(Worker.village_code.in_(codes))
        .group_by(Worker.village_code, Worker.employment_status, Worker.needs_help))
    for code, status, help_, n in counts:
        v = out[code]
        v.registered += n
        v.labour_force += n if status in ABLE_WILLING else 0
        v.employed += n if status in WORKING else 0
        v.stable += n if status == EmploymentStatus.stable else 0
        v.unemployed += n if status == EmploymentStatus.unemployed else 0
        v.needs_help += n if help_ else 0
    first, last = year_span(year)
    held = session.execute(
        select(Activity.village_code, Activity.kind, func.count())
        .where(Activity.village_code.in_(codes), Activity.on_day >= first, Activity.on_day <= last)
        .group_by(Activity.village_code, Activity.kind))
    for code, kind, n in held:
        out[code].held[ActivityKind(kind)] = n
    return list(out.values())


SORTS = {
    "code": lambda v: v.village_code,
    "rate": lambda v: (v.rate if v.rate is not None else -1.0),
    "labour": lambda v: v.labour_force,
    "short": lambda v: v.short,
    "missing": lambda v: len(v.missing),
    "meets": lambda v: (v.meets, v.rate or 0.0),
}
