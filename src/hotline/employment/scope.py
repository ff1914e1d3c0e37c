"""Who sees and edits which part of the labour ledger: the one place that decides it.

- Supervisors and admins see every station's ledger; admins also edit it, supervisors only read.
- A handler of a village committee or a township sees and edits the ledger of the regions their unit
  serves (a village's own, a township's villages).
- A handler of a county's human-resources bureau (人力资源和社会保障局, 人社局) sees and edits the
  ledger of the whole county their bureau serves.
- Everyone else (agents, dispatchers, handlers of other units) has no part in employment work.

Region codes nest by prefix (county 6 digits, township 9, village 12), so "the regions a unit serves"
is a set of prefixes of worker villages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.directory.models import Unit, UnitKind, UnitRegion
from hotline.kit.errors import PermissionDenied

STATION_UNITS = (UnitKind.village_committee, UnitKind.township)
NO_ACCESS = "就业服务站仅供村（社区）、乡镇、人社局工作人员及督办员、管理员使用"


@dataclass(frozen=True)
class LedgerScope:
    user_id: int | None
    everywhere: bool  # every region
    prefixes: tuple[str, ...]  # else: villages whose code starts with one of these
    may_edit: bool

    @property
    def has_access(self) -> bool:
        return self.everywhere or bool(self.prefixes)

    def covers(self, region_code: str) -> bool:
        return self.everywhere or any(region_code.startswith(p) for p in self.prefixes)

    def clause(self, column: ColumnElement[str]) -> ColumnElement[bool]:
        """A WHERE clause keeping the rows whose region ``column`` lies in the scope."""
        if self.everywhere:
            return true()
        if not self.prefixes:
            return false()
        return or_(*(column.startswith(p, autoescape=True) for p in self.prefixes))

    def require_access(self) -> None:
        if not self.has_access:
            raise PermissionDenied(NO_ACCESS, code="employment_forbidden")

    def require_edit(self, region_code: str | None = None) -> None:
        """Refuse a change by someone who only reads, or outside their regions."""
        self.require_access()
        if not self.may_edit:
            raise PermissionDenied("督办员可以查看台账，但不能修改", code="employment_read_only")
        if region_code is not None and not self.covers(region_code):
            raise PermissionDenied("只能修改本辖区的就业台账", code="employment_out_of_scope")


EVERYWHERE = LedgerScope(None, everywhere=True, prefixes=(), may_edit=True)


def is_hr_bureau(unit: Unit) -> bool:
    """The county human-resources bureau: a bureau named 人力资源和社会保障 (or coded ``*-hrss``)."""
    return unit.kind == UnitKind.bureau and ("人力资源和社会保障" in unit.name or unit.code.endswith("-hrss"))


def takes_part(user: User) -> bool:
    """Whether ``user`` has any part in employment work (the navigation shows it to them)."""
    if user.role in (Role.admin, Role.supervisor):
        return True
    unit = user.unit if user.role == Role.handler else None
    return unit is not None and (unit.kind in STATION_UNITS or is_hr_bureau(unit))


def _served(session: Session, unit: Unit) -> tuple[str, ...]:
    codes: Iterable[str] = session.scalars(select(UnitRegion.region_code).where(UnitRegion.unit_id == unit.id))
    found = sorted(set(codes) | ({unit.region_code} if unit.region_code else set()))
    # A prefix inside another adds nothing.
    return tuple(c for c in found if not any(c != o and c.startswith(o) for o in found))


def ledger_scope(session: Session, user: User | None) -> LedgerScope:
    """The ledger scope of ``user``; ``None`` is the platform itself (demo, CLI), which sees all."""
    if user is None:
        return EVERYWHERE
    if user.role in (Role.admin, Role.supervisor):
        return LedgerScope(user.id, everywhere=True, prefixes=(), may_edit=user.role == Role.admin)
    unit = session.get(Unit, user.unit_id) if user.role == Role.handler and user.unit_id else None
    if unit is None or not (unit.kind in STATION_UNITS or is_hr_bureau(unit)):
        return LedgerScope(user.id, everywhere=False, prefixes=(), may_edit=False)
    return LedgerScope(user.id, everywhere=False, prefixes=_served(session, unit), may_edit=True)
