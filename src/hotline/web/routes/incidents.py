"""Incidents (突发事件): bursts of related tickets proposed by detection, confirmed or dismissed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hotline.directory import reference
from hotline.incidents import public_notice, service
from hotline.incidents.models import STATE_LABELS, IncidentState
from hotline.kit.errors import DomainError, NotFound
from hotline.web.render import page
from hotline.web.routes.unit import refused
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
ROLES = service.DECIDERS


def _rows(ctx: PageContext) -> list[dict[str, Any]]:
    snap = reference.snapshot(ctx.session)
    out = []
    notices = {x.incident.id: x for x in public_notice.live(ctx.session, limit=100)}
    for item in service.listing(ctx.session):
        i = item.incident
        category = snap.categories.get(i.category_code)
        area = reference.region_label(snap, i.area_code) if i.area_code in snap.regions else i.area_code
        live = notices.get(i.id)
        out.append({
            "id": i.id, "state": i.state.value, "state_label": STATE_LABELS[i.state], "title": i.title,
            "category": category.name if category else i.category_code,
            "area": area,
            "regions": [snap.regions[c][0] if c in snap.regions else c for c in i.region_codes],
            "population": i.population, "ticket_count": i.ticket_count, "keywords": i.keywords,
            "first": i.first_ticket_at, "last": i.last_ticket_at, "detected": i.detected_at,
            "decided": i.decided_at, "note": i.note, "since_decision": item.since_decision,
            "tickets": [{"number": t.number, "title": t.title, "at": t.received_at} for t in item.tickets],
            "public": ({"text": live.notice.text, "at": live.notice.published_at, "until": live.expires_at}
                       if live else None),
            "suggested": public_notice.suggested_text(i, area),
        })
    return out


def _render(request: Request, ctx: PageContext, status_code: int = 200, error: str | None = None,
            typed: dict[str, Any] | None = None, notice: str | None = None) -> Response:
    rows = _rows(ctx)
    proposed = sum(1 for r in rows if r["state"] == IncidentState.proposed.value)
    return page(request, "incidents/list.html", status_code=status_code, rows=rows, proposed=proposed,
                error=error, typed=typed or {}, notice=notice, title="突发事件")


@router.get("/incidents")
def incidents_page(request: Request, confirmed: str = "", dismissed: str = "", published: str = "",
                   withdrawn: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        notice = (f"已确认事件 {confirmed}，相关工单已关联。" if confirmed else
                  f"已排除事件 {dismissed}，这些工单不会再被提示。" if dismissed else
                  f"事件 {published} 的对外公告已发布，市民提交页和坐席受理时可见。" if published else
                  f"事件 {withdrawn} 的对外公告已撤下。" if withdrawn else None)
        return _render(request, ctx, notice=notice)


def _decide(request: Request, incident_id: int, csrf: str, typed: dict[str, Any], done: str) -> Response:
    """Confirm, dismiss, publish or withdraw the public notice: refused roles and unknown incidents
    answered, a domain refusal re-renders the list with the error and what was typed, success redirects."""
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        try:
            incident = service.get(ctx.session, incident_id)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="事件不存在", message=missing.message)
        try:
            if done == "confirmed":
                service.confirm(ctx.session, incident, actor=ctx.user, note=typed.get("note"))
            elif done == "dismissed":
                service.dismiss(ctx.session, incident, actor=ctx.user, reason=typed.get("reason", ""))
            elif done == "published":
                public_notice.publish(ctx.session, incident, actor=ctx.user, text=typed.get("notice", ""))
            else:
                public_notice.withdraw(ctx.session, incident, actor=ctx.user)
            ctx.session.flush()
        except DomainError as err:
            ctx.session.rollback()
            return _render(request, ctx, status_code=err.http_status, error=err.message, typed=typed)
        return RedirectResponse(f"/incidents?{done}={incident_id}", status_code=303)


@router.post("/incidents/{incident_id}/confirm")
def confirm(request: Request, incident_id: int, csrf: str = Form(""), note: str = Form("")) -> Response:
    return _decide(request, incident_id, csrf, {"id": incident_id, "note": note, "action": "confirm"}, "confirmed")


@router.post("/incidents/{incident_id}/dismiss")
def dismiss(request: Request, incident_id: int, csrf: str = Form(""), reason: str = Form("")) -> Response:
    return _decide(request, incident_id, csrf, {"id": incident_id, "reason": reason, "action": "dismiss"}, "dismissed")


@router.post("/incidents/{incident_id}/notice")
def publish_notice(request: Request, incident_id: int, csrf: str = Form(""), notice: str = Form("")) -> Response:
    return _decide(request, incident_id, csrf, {"id": incident_id, "notice": notice, "action": "publish"}, "published")


@router.post("/incidents/{incident_id}/notice/withdraw")
def withdraw_notice(request: Request, incident_id: int, csrf: str = Form("")) -> Response:
    return _decide(request, incident_id, csrf, {"id": incident_id, "action": "withdraw"}, "withdrawn")
