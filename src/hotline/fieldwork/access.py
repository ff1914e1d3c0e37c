"""Who sees and does what in field work: the one place the rule lives.

- Supervisors and admins see and coordinate every operation.
- A handler of a unit that serves a township (its 镇政府) coordinates that township's operations:
  opens and closes them, registers tasks, machines, volunteers and buyers, assigns, completes.
- A handler of a unit that serves a village (村委会) sees the tasks in that village and reports
  their progress; starting and completing are the township's.
- Everyone else (agents, dispatchers, other units' handlers) sees no field work.

Pages, API and CLI all ask :func:`field_scope` and never decide this themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.directory import reference
from hotline.directory.models import RegionLevel, Unit, UnitKind, UnitRegion
from hotline.kit.errors import PermissionDenied

EVERYONE = (Role.supervisor, Role.admin)


@dataclass(frozen=True)
class FieldScope:
    everything: bool
    townships: frozenset[str]  # coordinated
    villages: frozenset[str]  # seen and reported on

    @property
    def any(self) -> bool:
        return self.everything or bool(self.townships or self.villages)

    @property
    def coordinates_any(self) -> bool:
        return self.everything or bool(self.townships)

    def coordinates(self, township_code: str) -> bool:
        return self.everything or township_code in self.townships

    def sees_task(self, township_code: str, village_code: str) -> bool:
        return self.coordinates(township_code) or village_code in self.villages

    def township_clause(self, column: Any) -> Any:
        """Rows of coordinated townships (registers, operations)."""
        if self.everything:
            return true()
        return column.in_(self.townships) if self.townships else false()

    def task_clause(self, township_column: Any, village_column: Any) -> Any:
        """Tasks this person sees: their townships' and their villages'."""
        if self.everything:
            return true()
        parts = []
        if self.townships:
            parts.append(township_column.in_(self.townships))
        if self.villages:
            parts.append(village_column.in_(self.villages))
        return or_(*parts) if parts else false()


NOBODY = FieldScope(False, frozenset(), frozenset())
SYSTEM = FieldScope(True, frozenset(), frozenset())


def takes_part(user: User) -> bool:
    """Whether ``user`` may have a part in field work (the navigation shows it to them): supervisors,
    admins, and handlers of a township's or a village's unit. The regions the unit serves decide the
    rest (:func:`field_scope`)."""
    if user.role in EVERYONE:
        return True
    unit = user.unit if user.role == Role.handler else None
    return unit is not None and unit.active and unit.kind in (UnitKind.township, UnitKind.village_committee)


def field_scope(session: Session, user: User | None) -> FieldScope:
    """The field-work scope of ``user``; ``None`` is the platform itself (demo, CLI without --by)."""
    if user is None or user.role in EVERYONE:
        return SYSTEM
    if user.role != Role.handler or user.unit_id is None:
        return NOBODY
    unit = session.get(Unit, user.unit_id)
    if unit is None or not unit.active:
        return NOBODY
    codes = set(session.scalars(select(UnitRegion.region_code).where(UnitRegion.unit_id == unit.id)))
    if unit.region_code:
        codes.add(unit.region_code)
    regions = reference.snapshot(session).regions
    townships = frozenset(c for c in codes if c in regions and regions[c][1] == RegionLevel.township)
    villages = frozenset(c for c in codes if c in regions and regions[c][1] == RegionLevel.village)
    return FieldScope(False, townships, villages)


def require_any(scope: FieldScope) -> None:
    if not scope.any:
        raise PermissionDenied("您所在单位不负责抢收抢种工作，无权查看", code="fieldwork_forbidden")


def require_coordinator(scope: FieldScope, township_code: str) -> None:
    if not scope.coordinates(township_code):
        raise PermissionDenied("只有本镇（乡）负责抢收抢种的工作人员、督办员和管理员可以进行此项调度",
                               code="fieldwork_not_coordinator")


def require_registers(scope: FieldScope) -> None:
    """The machine and volunteer registers are kept by coordinators."""
    if not scope.coordinates_any:
        raise PermissionDenied("登记表由乡镇负责抢收抢种的工作人员、督办员和管理员管理", code="fieldwork_not_coordinator")
