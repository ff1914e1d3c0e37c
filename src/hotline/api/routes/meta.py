"""Who am I, and counts for operators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field

from hotline.accounts.models import ROLE_LABELS, Role
from hotline.api.edge import unit_of_work
from hotline.api.schemas import Out, Timestamp
from hotline.directory.models import Unit
from hotline.tickets import queries

router = APIRouter(tags=["meta"])


class MeOut(Out):
    id: int
    username: str
    display_name: str
    role: Role
    role_label: str = Field(description="the role in Chinese, e.g. 承办人")
    unit_id: int | None
    unit: str | None = Field(description="the unit's name")


class UnitCount(Out):
    name: str
    count: int


class StatsOut(Out):
    total: int
    by_status: dict[str, int] = Field(description="tickets per status code (only statuses that occur)")
    by_kind: dict[str, int]
    by_channel: dict[str, int]
    by_unit: dict[str, UnitCount] = Field(description="tickets per lead unit, by unit code, most first")
    overdue_by_stage: dict[str, int] = Field(description="running tickets past each stage's deadline")
    overdue_total: int
    at: Timestamp = Field(description="when the counts were taken")


@router.get("/me", response_model=MeOut, summary="The authenticated user")
def me(request: Request):
    with unit_of_work(request, write=False) as ctx:
        u = ctx.user
        return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role.value,
                "role_label": ROLE_LABELS[u.role], "unit_id": u.unit_id,
                "unit": ctx.session.get(Unit, u.unit_id).name if u.unit_id is not None else None}


@router.get("/stats", response_model=StatsOut, summary="Counts by status, kind, unit and overdue stage (within your data scope)")
def stats(request: Request):
    with unit_of_work(request, write=False) as ctx:
        return queries.stats(ctx.session, ctx.scope)
