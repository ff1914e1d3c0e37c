"""Incidents (突发事件): bursts of related tickets proposed by detection, confirmed or dismissed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hotline.directory import reference
from hotline.incidents import public_notice, service
from hotline.incidents.models import ACTION_LABELS, STATE_LABELS, Incident, IncidentState
from hotline.kit.errors import DomainError, NotFound
from hotline.tickets.models import Ticket
from hotline.web.render import page
from hotline.web.routes.unit import refused
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
ROLES = service.DECIDERS
NUMBER = re.compile(r"\d{8}-\d{6}")  # a ticket number, as the redirect after taking one out names it
NUMBERS_SPLIT = re.compile(r"[\s,，、;；]+")  # ticket numbers typed one per line or in a row


def _row(ctx: PageContext, snap: reference.Snapshot, i: Incident, tickets: list[Ticket], since_decision: int,
         live: public_notice.Live | None) -> dict[str, Any]:
    category = snap.categories.get(i.category_code)
    area = reference.region_label(snap, i.area_code) if i.area_code in snap.regions else i.area_code
    return {
        "id": i.id, "state": i.state.value, "state_label": STATE_LABELS[i.state], "title": i.title,
        "category": category.name if category else i.category_code,
        "area": area,
        "regions": [snap.regions[c][0] if c in snap.regions else c for c in i.region_codes],
        "population": i.population, "ticket_count": i.ticket_count, "keywords": i.keywords,
        "first": i.first_ticket_at, "last": i.last_ticket_at, "detected": i.detected_at,
        "decided": i.decided_at, "note": i.note, "since_decision": since_decision,
        "ended": i.updated_at if i.state == IncidentState.ended else None,
        "tickets": [{"number": t.number, "title": t.title, "at": t.received_at,
                     "region": snap.regions[t.region_code][0] if t.region_code in snap.regions else t.region_code}
                    for t in tickets],
        "public": ({"text": live.notice.text, "at": live.notice.published_at, "until": live.expires_at}
                   if live else None),
        "suggested": public_notice.suggested_text(i, area),
        "may_add": i.state in (IncidentState.proposed, IncidentState.confirmed),
        "may_remove": i.state in (IncidentState.proposed, IncidentState.confirmed),
    }


def _rows(ctx: PageContext) -> list[dict[str, Any]]:
    snap = reference.snapshot(ctx.session)
    notices = {x.incident.id: x for x in public_notice.live(ctx.session, limit=100)}
    return [_row(ctx, snap, item.incident, item.tickets, item.since_decision, notices.get(item.incident.id))
            for item in service.listing(ctx.session)]


def _render(request: Request, ctx: PageContext, status_code: int = 200, error: str | None = None,
            typed: dict[str, Any] | None = None, notice: str | None = None) -> Response:
    rows = _rows(ctx)
    proposed = sum(1 for r in rows if r["state"] == IncidentState.proposed.value)
    return page(request, "incidents/list.html", status_code=status_code, rows=rows, proposed=proposed,
                error=error, typed=typed or {}, notice=notice, title="突发事件")


@router.get("/incidents")
def incidents_page(request: Request, confirmed: str = "", dismissed: str = "", published: str = "",
                   withdrawn: str = "", ended: str = "", reopened: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        live = {x.incident.id for x in public_notice.live(ctx.session, limit=100)}

        def done(value: str, holds: Any) -> bool:
            """The address names an incident that is as the action leaves it (no made-up notice)."""
            incident = ctx.session.get(Incident, int(value)) if value.isdigit() and len(value) < 10 else None
            return incident is not None and holds(incident)

        notice = (f"已确认事件 {confirmed}，相关工单已关联。"
                  if done(confirmed, lambda i: i.state == IncidentState.confirmed) else
                  f"已排除事件 {dismissed}，这些工单不会再被提示。"
                  if done(dismissed, lambda i: i.state == IncidentState.dismissed) else
                  f"事件 {published} 的对外公告已发布，市民提交页和坐席受理时可见。"
                  if done(published, lambda i: i.id in live) else
                  f"事件 {withdrawn} 的对外公告已撤下。" if done(withdrawn, lambda i: i.id not in live) else
                  f"事件 {ended} 已结束，不再关联新来电，坐席受理时也不再提示。"
                  if done(ended, lambda i: i.state == IncidentState.ended) else
                  f"事件 {reopened} 已重新开启，后续同类来电将继续关联，坐席受理时重新提示。"
                  if done(reopened, lambda i: i.state == IncidentState.confirmed) else None)
        return _render(request, ctx, notice=notice)


def _decide(request: Request, incident_id: int, csrf: str, typed: dict[str, Any], done: str) -> Response:
    """Confirm, dismiss, end, reopen, publish or withdraw the public notice: refused roles and unknown incidents
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
            elif done == "ended":
                service.end(ctx.session, incident, actor=ctx.user)
            elif done == "reopened":
                service.reopen(ctx.session, incident, actor=ctx.user)
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


@router.post("/incidents/{incident_id}/end")
def end(request: Request, incident_id: int, csrf: str = Form("")) -> Response:
    return _decide(request, incident_id, csrf, {"id": incident_id, "action": "end"}, "ended")


@router.post("/incidents/{incident_id}/reopen")
def reopen(request: Request, incident_id: int, csrf: str = Form("")) -> Response:
    return _decide(request, incident_id, csrf, {"id": incident_id, "action": "reopen"}, "reopened")


def _detail(request: Request, ctx: PageContext, incident: Incident, status_code: int = 200,
            error: str | None = None, typed: dict[str, Any] | None = None, notice: str | None = None) -> Response:
    snap = reference.snapshot(ctx.session)
    live = next((x for x in public_notice.live(ctx.session, limit=100) if x.incident.id == incident.id), None)
    row = _row(ctx, snap, incident, service.tickets_of(ctx.session, incident), 0, live)
    removed = [{"number": t.number, "title": t.title, "at": link.removed_at, "by": by}
               for t, link, by in service.removed_from(ctx.session, incident)]
    history = [{"at": e.at, "what": ACTION_LABELS[e.action], "by": by, "number": number}
               for e, by, number in service.history(ctx.session, incident)]
    return page(request, "incidents/detail.html", status_code=status_code, r=row, removed=removed, history=history,
                error=error, typed=typed or {}, notice=notice, title=f"突发事件：{incident.title}")


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: int, added: str = "", removed: str = "") -> Response:
    """One incident with all its tickets, those taken out and its history: where a supervisor adds a
    ticket by number or takes a wrongly gathered one out (of a proposal too, before confirming it)."""
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        try:
            incident = service.get(ctx.session, incident_id)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="事件不存在", message=missing.message)
        removed = removed if NUMBER.fullmatch(removed) else ""
        notice = (f"已添加 {added} 件工单，事件区域和人口已重新计算。" if added.isdigit() else
                  f"工单 {removed} 已移出本事件，事件区域和人口已重新计算。" if removed else None)
        return _detail(request, ctx, incident, notice=notice)


def _change(request: Request, incident_id: int, csrf: str, typed: dict[str, Any],
            act: Callable[[PageContext, Incident], str]) -> Response:
    """Add or take out tickets on the incident's page: a refusal re-renders it with the error and
    what was typed; success goes back to it with ``act``'s query (its notice)."""
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        try:
            incident = service.get(ctx.session, incident_id)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="事件不存在", message=missing.message)
        try:
            done = act(ctx, incident)
            ctx.session.flush()
        except DomainError as err:
            ctx.session.rollback()
            return _detail(request, ctx, service.get(ctx.session, incident_id), status_code=err.http_status,
                           error=err.message, typed=typed)
        return RedirectResponse(f"/incidents/{incident_id}?{done}", status_code=303)


@router.post("/incidents/{incident_id}/tickets")
def add_tickets(request: Request, incident_id: int, csrf: str = Form(""), numbers: str = Form("")) -> Response:
    def act(ctx: PageContext, incident: Incident) -> str:
        wanted = [n for n in NUMBERS_SPLIT.split(numbers) if n]
        return f"added={service.add_tickets(ctx.session, incident, actor=ctx.user, numbers=wanted)}"
    return _change(request, incident_id, csrf, {"numbers": numbers}, act)


@router.post("/incidents/{incident_id}/tickets/{number}/remove")
def remove_ticket(request: Request, incident_id: int, number: str, csrf: str = Form("")) -> Response:
    def act(ctx: PageContext, incident: Incident) -> str:
        ticket = service.remove_ticket(ctx.session, incident, actor=ctx.user, number=number)
        return f"removed={ticket.number}"
    return _change(request, incident_id, csrf, {}, act)
