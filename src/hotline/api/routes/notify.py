"""Notifications seen from the API: one's own inbox; for admins the outbox and the message templates.

The outbox view is what an operator needs when messages fail: which message, to whom (a phone number
masked down to its last 4 digits), how often it was tried and the gateway's last error, and a way
to put it back in the queue once the cause is fixed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts.models import Role
from hotline.api import paging
from hotline.api.edge import Context, unit_of_work
from hotline.api.routes.tickets import MAX_ID
from hotline.api.schemas import Body, Out, Timestamp
from hotline.kit import clock
from hotline.kit.errors import NotFound, PermissionDenied
from hotline.notices.admin import check_template, count_in, messages_in, outbox_view, retry
from hotline.notices.admin import placeholder_names as _names
from hotline.notices.admin import shipped_by_code as _shipped
from hotline.notify import inbox as inbox_items
from hotline.notify.models import InboxItem, MessageChannel, MessageState, MessageTemplate
from hotline.notify.templates import invalidate as forget_templates
from hotline.tickets.views import iso

router = APIRouter(tags=["notifications"])


def require_admin(ctx: Context, what: str) -> None:
    if ctx.user.role != Role.admin:
        raise PermissionDenied(f"只有管理员可以{what}")


# ---------------------------------------------------------------- responses


class InboxItemOut(Out):
    id: int
    subject: str
    body: str
    ticket_id: int | None
    created_at: Timestamp
    read_at: Timestamp | None
    read: bool


class InboxOut(Out):
    unread: int = Field(description="how many of my messages are unread (all of them, not only those listed)")
    items: list[InboxItemOut]


class MarkedOut(Out):
    marked: int = Field(description="messages marked read")


class OutboxMessageOut(Out):
    id: int
    state: MessageState
    channel: MessageChannel
    recipient: str = Field(description="a phone number masked down to its last 4 digits, or an inbox user's id")
    recipient_name: str | None = Field(description="the inbox user's name")
    template: str
    subject: str
    ticket_id: int | None
    ticket_number: str | None
    attempts: int
    last_error: str | None
    created_at: Timestamp
    not_before: Timestamp
    sent_at: Timestamp | None


class RetryOut(Out):
    retried: int = Field(description="messages put back in the queue")
    skipped: list[int] = Field(description="ids asked for that are not failed messages")


class TemplateText(Out):
    subject: str
    body: str


class TemplateOut(Out):
    code: str
    channel: str = Field(description="sms, inbox or any")
    subject: str
    body: str
    placeholders: list[str] = Field(description="the {names} the text uses")
    customized: bool = Field(description="the text differs from the shipped wording (or there is none)")
    default: TemplateText | None = Field(description="the shipped wording")
    updated_at: Timestamp


# ---------------------------------------------------------------- inbox


def _inbox_item(item: InboxItem) -> dict[str, Any]:
    return {"id": item.id, "subject": item.subject, "body": item.body, "ticket_id": item.ticket_id,
            "created_at": iso(item.created_at), "read_at": iso(item.read_at), "read": item.read_at is not None}


@router.get("/inbox", response_model=InboxOut, summary="My in-app inbox: unread first, then newest")
def inbox(request: Request, unread: bool = False, limit: int = Query(default=100, ge=1, le=500, description=paging.FIRST_ROWS)):
    with unit_of_work(request, write=False) as ctx:
        items = [_inbox_item(i) for i in inbox_items.listing(ctx.session, ctx.user.id, unread_only=unread, limit=limit)]
        return {"unread": inbox_items.unread_count(ctx.session, ctx.user.id), "items": items}


@router.post("/inbox/{item_id}/read", response_model=InboxItemOut, summary="Mark one of my inbox messages read")
def read_item(item_id: int, request: Request):
    with unit_of_work(request, write=True) as ctx:
        return _inbox_item(inbox_items.mark_read(ctx.session, ctx.user.id, item_id))


@router.post("/inbox/read-all", response_model=MarkedOut, summary="Mark all my inbox messages read")
def read_all(request: Request):
    with unit_of_work(request, write=True) as ctx:
        return {"marked": inbox_items.mark_all_read(ctx.session, ctx.user.id)}


# ---------------------------------------------------------------- outbox (admins)


@router.get("/outbox", response_model=list[OutboxMessageOut], responses=paging.TOTAL_DOC,
            summary="Outgoing messages by state, newest first; by default those set aside after failing (admins; "
                    "paged; total in X-Total-Count)")
def outbox(request: Request, response: Response,
           window: Annotated[paging.Window, Depends(paging.rows(default=200, most=1000))],
           state: Literal["dead", "pending", "sending", "sent"] = "dead"):
    with unit_of_work(request, write=False) as ctx:
        require_admin(ctx, "查看消息发送队列")
        wanted = MessageState(state)
        messages = messages_in(ctx.session, wanted, window.limit, offset=window.offset)
        paging.report_total(response, count_in(ctx.session, wanted))
        # The view also writes template_label, for the pages; the API has never sent it.
        return [{k: v for k, v in m.items() if k != "template_label"} for m in outbox_view(ctx.session, messages)]


class RetryIn(Body):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(default=None, min_length=1, max_length=1000)
    all: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> RetryIn:
        if (self.ids is None) == (not self.all):
            raise PydanticCustomError("ids_or_all", "须指定 ids（消息编号数组）或 all: true，二者选一")
        return self


@router.post("/outbox/retry", response_model=RetryOut, summary="Send failed messages again: the given ids, or all (admins)")
def outbox_retry(body: RetryIn, request: Request):
    with unit_of_work(request, write=True) as ctx:
        require_admin(ctx, "重新发送消息")
        return retry(ctx.session, None if body.all else body.ids)


# ---------------------------------------------------------------- message templates (admins)


def _template(t: MessageTemplate, default: dict[str, str] | None) -> dict[str, Any]:
    customized = default is None or (t.subject, t.body) != (default["subject"], default["body"])
    return {"code": t.code, "channel": t.channel, "subject": t.subject, "body": t.body,
            "placeholders": _names(t.subject, t.body), "customized": customized,
            "default": {"subject": default["subject"], "body": default["body"]} if default else None,
            "updated_at": iso(t.updated_at)}


def _find_template(session: Session, code: str) -> MessageTemplate:
    template = session.get(MessageTemplate, code) if len(code) <= 40 else None
    if template is None:
        raise NotFound(f"消息模板 {code} 不存在")
    return template


class TemplateIn(Body):
    subject: str = Field(max_length=200)
    body: str = Field(max_length=2000)
    confirm_dropped: bool = Field(False, description="save although the text leaves out placeholders of the "
                                                    "shipped default (refused as placeholders_dropped otherwise)")


@router.get("/message-templates", response_model=list[TemplateOut], summary="Message templates, with their placeholders and shipped defaults (admins)")
def templates(request: Request):
    with unit_of_work(request, write=False) as ctx:
        require_admin(ctx, "查看消息模板")
        shipped = _shipped()
        rows = ctx.session.scalars(select(MessageTemplate).order_by(MessageTemplate.code))
        return [_template(t, shipped.get(t.code)) for t in rows]


@router.put("/message-templates/{code}", response_model=TemplateOut, summary="Change a message template's wording (admins)")
def put_template(code: str, body: TemplateIn, request: Request):
    with unit_of_work(request, write=True) as ctx:
        require_admin(ctx, "修改消息模板")
        template = _find_template(ctx.session, code)
        default = _shipped().get(code)
        allowed = _names(default["subject"], default["body"]) if default else _names(template.subject, template.body)
        check_template(body.subject, body.body, allowed=allowed, confirmed=body.confirm_dropped,
                       default=_names(default["subject"], default["body"]) if default else None)
        template.subject, template.body, template.updated_at = body.subject, body.body, clock.now()
        ctx.session.flush()
        out = _template(template, default)
    forget_templates()  # after the commit: the next render reads the new text
    return out


@router.post("/message-templates/{code}/reset", response_model=TemplateOut,
             summary="Restore a message template's shipped wording (admins)")
def reset_template(code: str, request: Request):
    with unit_of_work(request, write=True) as ctx:
        require_admin(ctx, "修改消息模板")
        template = _find_template(ctx.session, code)
        default = _shipped().get(code)
        if default is None:
            raise NotFound(f"消息模板 {code} 没有随系统提供的默认文本")
        template.subject, template.body, template.updated_at = default["subject"], default["body"], clock.now()
        ctx.session.flush()
        out = _template(template, default)
    forget_templates()  # after the commit: the next render reads the new text
    return out
