"""Data scope: the one place that turns a user into what they may see.

Every ticket list and read goes through ``tickets.queries``, which applies a ``Scope``. A handler
sees only tickets where their unit is lead or co-handler, and never a confidential caller's name or
phone; hotline staff see everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.accounts.models import Role, User


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    role: Role | None
    unit_id: int | None
    all_tickets: bool
    sees_confidential: bool

    @property
    def is_system(self) -> bool:
        return self.user_id is None


SYSTEM = Scope(user_id=None, role=None, unit_id=None, all_tickets=True, sees_confidential=True)


def scope_for(user: User | None) -> Scope:
    """The data scope of a user; ``None`` is the platform itself (worker, demo, CLI)."""
    if user is None:
        return SYSTEM
    if user.role == Role.handler:
        # A handler without a unit sees nothing rather than everything.
        return Scope(user.id, user.role, user.unit_id, all_tickets=False, sees_confidential=False)
    return Scope(user.id, user.role, user.unit_id, all_tickets=True, sees_confidential=True)
