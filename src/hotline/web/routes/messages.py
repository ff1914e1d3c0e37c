"""站内信: every staff member's in-app messages (派单, 预警, 超期, 催办, 督办, 督办答复 …), unread first."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from hotline.kit.errors import NotFound
from hotline.notify import inbox
from hotline.tickets.models import Ticket
from hotline.web.render import page
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
SHOWN = 200


def _render(request: Request, ctx: PageContext, status_code: int = 200, error: str | None = None) -> Response:
    items = inbox.listing(ctx.session, ctx.user.id, limit=SHOWN)
    ids = {i.ticket_id for i in items if i.ticket_id}
    numbers = dict(ctx.session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids))).all()) if ids else {}
    return page(request, "messages.html", status_code=status_code, error=error, title="站内信",
                unread=inbox.unread_count(ctx.session, ctx.user.id), shown=SHOWN,
                items=[{"id": i.id, "subject": i.subject, "body": i.body, "at": i.created_at,
                        "read": i.read_at is not None, "number": numbers.get(i.ticket_id)} for i in items])


@router.get("/messages")
def messages_page(request: Request) -> Response:
    with page_work(request, write=False) as ctx:
        return _render(request, ctx)


@router.post("/messages/{item_id}/read")
def read_one(request: Request, item_id: int, csrf: str = Form("")) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        try:
            inbox.mark_read(ctx.session, ctx.user.id, item_id)
        except NotFound as exc:
            return _render(request, ctx, status_code=404, error=exc.message)
    return RedirectResponse("/messages", status_code=303)


@router.post("/messages/read-all")
def read_all(request: Request, csrf: str = Form("")) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        inbox.mark_all_read(ctx.session, ctx.user.id)
    return RedirectResponse("/messages", status_code=303)
