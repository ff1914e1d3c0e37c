"""Who am I, and counts for operators."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hotline.accounts.models import ROLE_LABELS
from hotline.api.edge import unit_of_work
from hotline.api.routes.tickets import ERRORS
from hotline.directory.models import Unit
from hotline.tickets import queries

router = APIRouter(tags=["meta"], responses=ERRORS)


@router.get("/me", summary="The authenticated user")
def me(request: Request):
    with unit_of_work(request, write=False) as ctx:
        u = ctx.user
        return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role.value,
                "role_label": ROLE_LABELS[u.role], "unit_id": u.unit_id,
                "unit": ctx.session.get(Unit, u.unit_id).name if u.unit_id is not None else None}


@router.get("/stats", summary="Counts by status, kind, unit and overdue stage (within your data scope)")
def stats(request: Request):
    with unit_of_work(request, write=False) as ctx:
        return queries.stats(ctx.session, ctx.scope)
