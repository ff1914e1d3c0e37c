"""智能建议 on the intake page: as the agent types the caller's words, the model's top three
categories with their confidence, the place named in the text, and the unit the dispatch catalogue
(or, where it has no rule, history) would send the ticket to. Each suggestion fills its field with
a click; what the agent finally picks is stored at registration (``record_suggestion``) and used at
the next training."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.assist.suggest import current_model, suggest_category, suggest_label
from hotline.assist.training import record_choice, ticket_text
from hotline.assist.units import suggest_unit
from hotline.classification.place_field import resolve_place
from hotline.classification.places import extract
from hotline.directory import lookup, reference
from hotline.kit.errors import DomainError
from hotline.tickets.models import Ticket
from hotline.tickets.views import KIND_LABELS, URGENCY_LABELS
from hotline.web.render import page
from hotline.web.session import page_work

router = APIRouter(include_in_schema=False)
INTAKE_ROLES = frozenset({Role.agent, Role.dispatcher, Role.admin})
MAX_TEXT = 2000


@router.get("/agent/suggest")
def suggestions(request: Request, content: str = "", category_code: str = "", region: str = "") -> Response:
    text = content.strip()[:MAX_TEXT]
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in INTAKE_ROLES:  # the same people as the intake page
            return page(request, "error.html", status_code=403, title="无权访问", message="您的角色无权受理工单")
        if not text:
            return page(request, "intake/suggest.html", asked=False)
        snap = reference.snapshot(ctx.session)
        data_dir = request.app.state.settings.data_dir
        top = suggest_category(ctx.session, data_dir, text)
        saved = current_model(data_dir, "category")
        place = extract(snap, text)
        chosen = lookup.category_code_of(snap, category_code)
        category = chosen if chosen in snap.categories else (top[0][0] if top else None)
        try:
            typed = lookup.resolve_region(snap, region) if region.strip() else None
        except DomainError:
            typed = resolve_place(snap, region[:60]).code  # as registering reads it: 裴介镇朱吕村, 朱吕村
        region_code = typed or (place.code if place else None)
        unit = None
        if category and region_code:
            s = suggest_unit(ctx.session, category_code=category, region_code=region_code, text=text)
            if s.lead_unit_id is not None:
                unit = {"name": snap.units[s.lead_unit_id][1], "reason": s.reason}
        suggested = json.dumps({"version": saved.version if saved else None,
                                "top": [{"code": c, "probability": p} for c, _n, p in top]})
        kinds = [{"code": c, "name": KIND_LABELS.get(c, c), "probability": p}
                 for c, p in suggest_label(data_dir, "kind", text)]
        urgencies = [{"code": c, "name": URGENCY_LABELS.get(c, c), "probability": p, "pressing": c != "normal"}
                     for c, p in suggest_label(data_dir, "urgency", text)]
        return page(request, "intake/suggest.html", asked=True, place=place, unit=unit, suggested=suggested,
                    categories=[{"code": c, "name": n, "probability": p} for c, n, p in top],
                    kinds=kinds, urgencies=urgencies)


def record_suggestion(session: Session, ticket: Ticket, user: User, posted: str) -> None:
    """Store what the model suggested (the hidden field the suggestions fragment wrote) beside the
    category the agent registered; nothing when no suggestion was shown."""
    try:
        shown: dict[str, Any] = json.loads(posted) if posted else {}
    except ValueError:
        return
    top = shown.get("top") if isinstance(shown, dict) else None
    if not top or not isinstance(top, list):
        return
    version = shown.get("version")
    record_choice(session, text=ticket_text(ticket.title, ticket.content), chosen_label=ticket.category_code,
                  suggestions=[t for t in top if isinstance(t, dict)][:3], ticket_id=ticket.id, user_id=user.id,
                  model_version=version if isinstance(version, int) else None)
