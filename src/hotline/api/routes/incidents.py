"""Incident endpoints: the proposals detection made, and the supervisors' decision on each
(confirm: its tickets linked and told on their timelines; dismiss: with a reason; end a confirmed
one, reopen an ended one); one incident with all its tickets, those taken out and its history; its
tickets (add by number, take a wrong one out, of a proposal too); the public notice of a confirmed
one (publish, withdraw)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from hotline.api import paging
from hotline.api.edge import unit_of_work
from hotline.api.schemas import Body, Out, Ref, Timestamp
from hotline.directory import reference
from hotline.incidents import public_notice, service
from hotline.incidents.models import Incident, IncidentAction, IncidentNotice, IncidentState
from hotline.kit.errors import Invalid, PermissionDenied
from hotline.tickets import views

router = APIRouter(tags=["incidents"])
STATES = ("proposed", "confirmed", "dismissed", "ended")


class ConfirmIn(Body):
    note: str | None = None


class DismissIn(Body):
    reason: str


class TicketsIn(Body):
    numbers: list[str] = Field(title="工单号", description="ticket numbers to add to the incident", max_length=200)


class NoticeIn(Body):
    text: str = Field(title="公告内容", description="what citizens are told (5 to 300 characters)")


class NoticeOut(Out):
    text: str
    published_at: Timestamp
    expires_at: Timestamp = Field(description="the portal stops showing it then")


class IncidentOut(Out):
    id: int
    state: IncidentState
    title: str
    category_code: str
    area: Ref = Field(description="the region the incident covers")
    regions: list[Ref] = Field(description="the regions its tickets came from")
    population: int | None
    ticket_count: int
    keywords: list[str]
    first_ticket_at: Timestamp
    last_ticket_at: Timestamp
    detected_at: Timestamp
    decided_at: Timestamp | None
    decided_by_id: int | None
    note: str | None = Field(description="the note of the confirmation, or the reason of the dismissal")
    ended_at: Timestamp | None
    public_notice: NoticeOut | None = Field(description="the live public notice (对外公告), if any")


class IncidentTicket(Out):
    id: int
    number: str
    title: str
    region_code: str
    received_at: Timestamp


class IncidentWithTickets(IncidentOut):
    tickets: list[IncidentTicket] = Field(description="its tickets, the earliest call first (a list shows the "
                                                      "first ten)")


class RemovedTicket(Out):
    id: int
    number: str
    title: str
    removed_at: Timestamp = Field(description="when it was taken out (the detection does not bring it back)")
    removed_by_id: int | None = Field(description="who took it out")


class IncidentStep(Out):
    action: IncidentAction = Field(description="confirmed, dismissed, ended, reopened, or a ticket added or "
                                               "removed by hand")
    at: Timestamp
    actor_id: int | None = Field(description="who took the step")
    ticket_number: str | None = Field(description="the ticket added or removed, for those two steps")


class IncidentDetail(IncidentWithTickets):
    tickets: list[IncidentTicket] = Field(description="all its tickets, the earliest call first")
    removed_tickets: list[RemovedTicket] = Field(description="the tickets taken out of it, the latest first")
    history: list[IncidentStep] = Field(description="each step people took on it, the oldest first")


class TicketsAdded(IncidentWithTickets):
    added: int = Field(description="how many of the numbers sent were new to the incident")


def notice_view(notice: IncidentNotice | None) -> dict[str, Any] | None:
    if notice is None:
        return None
    return {"text": notice.text, "published_at": views.iso(notice.published_at),
            "expires_at": views.iso(notice.published_at + public_notice.EXPIRES)}


def incident_view(snap: reference.Snapshot, incident: Incident, tickets: list[Any] | None = None,
                  notice: IncidentNotice | None = None) -> dict[str, Any]:
    out = {
        "id": incident.id, "state": incident.state.value, "title": incident.title,
        "category_code": incident.category_code,
        "area": {"code": incident.area_code, "name": reference.region_label(snap, incident.area_code)},
        "regions": [{"code": c, "name": reference.region_label(snap, c)} for c in incident.region_codes or []],
        "population": incident.population, "ticket_count": incident.ticket_count, "keywords": incident.keywords,
        "first_ticket_at": views.iso(incident.first_ticket_at), "last_ticket_at": views.iso(incident.last_ticket_at),
        "detected_at": views.iso(incident.detected_at), "decided_at": views.iso(incident.decided_at),
        "decided_by_id": incident.decided_by_id, "note": incident.note,
        "ended_at": views.iso(incident.updated_at) if incident.state == IncidentState.ended else None,
        "public_notice": notice_view(notice),
    }
    if tickets is not None:
        out["tickets"] = [{"id": t.id, "number": t.number, "title": t.title,
                           "region_code": t.region_code, "received_at": views.iso(t.received_at)} for t in tickets]
    return out


def _decider(ctx: Any) -> None:
    if ctx.user.role not in service.DECIDERS:
        raise PermissionDenied("只有督办员、派单员和管理员可以查看和处理突发事件", code="incident_forbidden")


@router.get("/incidents", response_model=list[IncidentWithTickets], responses=paging.TOTAL_DOC,
            summary="Incidents: proposed first, then confirmed and dismissed, with their first tickets (paged; total in X-Total-Count)")
def list_incidents(request: Request, response: Response,
                   window: Annotated[paging.Window, Depends(paging.rows(default=50, most=200))],
                   state: str | None = Query(default=None, description="proposed, confirmed, dismissed or ended")) -> list[dict[str, Any]]:
    if state is not None and state not in STATES:
        raise Invalid(f"未知事件状态：{state}", code="unknown_state", details={"field": "state"})
    with unit_of_work(request, write=False) as ctx:
        _decider(ctx)
        snap = reference.snapshot(ctx.session)
        wanted = IncidentState(state) if state else None
        rows = service.listing(ctx.session, limit=window.limit, offset=window.offset, state=wanted)
        paging.report_total(response, service.count(ctx.session, state=wanted))
        notices = {x.incident.id: x.notice for x in public_notice.live(ctx.session, limit=200)}
        return [incident_view(snap, r.incident, r.tickets, notices.get(r.incident.id)) for r in rows]


@router.post("/incidents/{incident_id}/confirm", response_model=IncidentOut, summary="Confirm a proposed incident: its tickets are linked")
def confirm(incident_id: int, body: ConfirmIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        _decider(ctx)
        incident = service.confirm(ctx.session, service.get(ctx.session, incident_id), actor=ctx.user, note=body.note)
        return incident_view(reference.snapshot(ctx.session), incident)


@router.post("/incidents/{incident_id}/dismiss", response_model=IncidentOut, summary="Dismiss a proposed incident, with the reason")
def dismiss(incident_id: int, body: DismissIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        _decider(ctx)
        incident = service.dismiss(ctx.session, service.get(ctx.session, incident_id), actor=ctx.user,
                                   reason=body.reason)
        return incident_view(reference.snapshot(ctx.session), incident)


@router.post("/incidents/{incident_id}/notice", response_model=IncidentOut,
             summary="Publish (or replace) the public notice of a confirmed incident, shown on the citizen portal")
def publish_notice(incident_id: int, body: NoticeIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        _decider(ctx)
        incident = service.get(ctx.session, incident_id)
        notice = public_notice.publish(ctx.session, incident, actor=ctx.user, text=body.text)
        return incident_view(reference.snapshot(ctx.session), incident, notice=notice)


@router.post("/incidents/{incident_id}/notice/withdraw", response_model=IncidentOut, summary="Withdraw the live public notice of an incident")
def withdraw_notice(incident_id: int, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        _decider(ctx)
        incident = service.get(ctx.session, incident_id)
        public_notice.withdraw(ctx.session, incident, actor=ctx.user)
        return incident_view(reference.snapshot(ctx.session), incident)


@router.post("/incidents/{incident_id}/end", response_model=IncidentOut,
             summary="End a confirmed incident: no more calls are linked to it, intake no longer shows it")
def end(incident_id: int, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        _decider(ctx)
        incident = service.end(ctx.session, service.get(ctx.session, incident_id), actor=ctx.user)
        return incident_view(reference.snapshot(ctx.session), incident)


@router.post("/incidents/{incident_id}/reopen", response_model=IncidentOut,
             summary="Reopen an ended incident (ended too early): confirmed again, later calls are linked again")
def reopen(incident_id: int, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        _decider(ctx)
        incident = service.reopen(ctx.session, service.get(ctx.session, incident_id), actor=ctx.user)
        return incident_view(reference.snapshot(ctx.session), incident)


@router.get("/incidents/{incident_id}", response_model=IncidentDetail,
            summary="One incident with all its tickets, the tickets taken out of it, and each step people took on it")
def get_incident(incident_id: int, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        _decider(ctx)
        incident = service.get(ctx.session, incident_id)
        view = incident_view(reference.snapshot(ctx.session), incident, service.tickets_of(ctx.session, incident),
                             public_notice.current(ctx.session, incident))
        removed = [{"id": t.id, "number": t.number, "title": t.title, "removed_at": views.iso(link.removed_at),
                    "removed_by_id": link.removed_by_id} for t, link, _ in service.removed_from(ctx.session, incident)]
        history = [{"action": e.action.value, "at": views.iso(e.at), "actor_id": e.actor_id, "ticket_number": number}
                   for e, _, number in service.history(ctx.session, incident)]
        return view | {"removed_tickets": removed, "history": history}


@router.post("/incidents/{incident_id}/tickets", response_model=TicketsAdded,
             summary="Add tickets by number to a proposed or confirmed incident; its area is recomputed")
def add_tickets(incident_id: int, body: TicketsIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        _decider(ctx)
        incident = service.get(ctx.session, incident_id)
        added = service.add_tickets(ctx.session, incident, actor=ctx.user, numbers=body.numbers)
        view = incident_view(reference.snapshot(ctx.session), incident, service.tickets_of(ctx.session, incident))
        return view | {"added": added}


@router.post("/incidents/{incident_id}/tickets/{number}/remove", response_model=IncidentWithTickets,
             summary="Take a ticket out of a proposed or confirmed incident; its area is recomputed, and the "
                     "detection does not bring it back")
def remove_ticket(incident_id: int, number: str, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        _decider(ctx)
        incident = service.get(ctx.session, incident_id)
        service.remove_ticket(ctx.session, incident, actor=ctx.user, number=number)
        return incident_view(reference.snapshot(ctx.session), incident, service.tickets_of(ctx.session, incident))
