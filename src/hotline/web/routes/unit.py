"""The unit inbox (承办): to accept, in progress, due soon, overdue; and the unit's actions."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hotline.accounts.models import Role
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import DomainError, Invalid, NotFound
from hotline.supervision import orders
from hotline.supervision.models import ORDER_LEVEL_LABELS
from hotline.tickets import lifecycle, queries
from hotline.tickets.models import Ticket, TicketEvent, UnitRole, UnitTaskStatus
from hotline.tickets.sla import RUNNING, STAGE_LABELS
from hotline.tickets.states import STATUS_LABELS, Status
from hotline.tickets.views import URGENCY_LABELS
from hotline.web.render import page
from hotline.web.routes.tickets import place_text
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
ROLES = (Role.handler, Role.admin)
INBOX_STATUSES = ["dispatched", "accepted", "in_progress", "suspended", "return_requested"]
DUE_SOON = timedelta(hours=24)


def refused(request: Request, message: str = "您的角色无权访问此页面") -> Response:
    return page(request, "error.html", status_code=403, title="无权访问", message=message)


def countdown(due: datetime | None, now: datetime) -> str:
    """「剩余 5 小时」 or 「已超期 3 小时」 (days shown past 48 hours, minutes under one hour)."""
    if due is None:
        return ""
    left = due - now
    text = clock.span_text(left)
    return f"已超期 {text}" if left < timedelta(0) else f"剩余 {text}"


PAUSED = "已暂停计时"
PART_LABELS = {UnitTaskStatus.dispatched: "待签收", UnitTaskStatus.accepted: "已签收"}
# The one-line notice after a handler's action, by the timeline event it wrote.
DONE = {
    "accept": "工单 {n} 已签收",
    "accept_part": "工单 {n} 已签收（协办）",
    "record_contact": "工单 {n} 已记录联系来电人",
    "reply": "工单 {n} 已反馈，等待热线中心审核",
    "reply_part": "工单 {n} 协办反馈已提交",
    "request_extension": "工单 {n} 已申请延期，等待热线中心审批",
    "request_return": "工单 {n} 已申请退单，等待热线中心审核",
    "suspend": "工单 {n} 已挂起，办理时限暂停计时",
    "resume": "工单 {n} 已恢复办理，办理时限顺延挂起的时间",
}


def part_clocks(row: Any) -> dict[str, datetime]:
    """The unit's own clocks that run now, in the order it must meet them (签收, 联系来电人, 反馈), with
    their stored due times: the same rule as ``queries.part_running``. A co-handler (协办) signs for
    its own part and does not contact the caller; a suspended ticket, or one whose return waits for
    the centre's review, runs none."""
    status, lead = str(row.status), row.task_role == UnitRole.lead
    running = {
        "accept": row.task_status == UnitTaskStatus.dispatched
        and (status == Status.dispatched or (not lead and status not in queries.HELD)),
        "contact": lead and row.contacted_at is None and status in RUNNING["contact"],
        "reply": status in RUNNING["reply"],
    }
    return {stage: getattr(row, f"{stage}_due_at") for stage, on in running.items()
            if on and getattr(row, f"{stage}_due_at") is not None}


def _unit_id(ctx: PageContext, unit_id: int | None) -> int | None:
    return ctx.user.unit_id if ctx.user.role == Role.handler else unit_id


def _row(snap: reference.Snapshot, ticket: Any, now: datetime) -> dict[str, Any]:
    """One inbox row from a ``queries.INBOX_COLUMNS`` row (the ticket's columns and the unit's task):
    the unit's own part (its status, its next deadline), not the lead's or the whole ticket's."""
    clocks = part_clocks(ticket)
    overdue = [stage for stage, due in clocks.items() if due < now]
    paused = ticket.status == Status.suspended
    stage, due = next(iter(clocks.items()), ("reply" if paused else "", ticket.reply_due_at if paused else None))
    is_lead = ticket.task_role == UnitRole.lead
    # The lead's return waits for the centre (改派 or 驳回退单): nothing in the row can succeed, and
    # no countdown is shown while the unit cannot act (its co-handlers still sign and reply).
    waiting = is_lead and ticket.status == Status.return_requested
    reply_due = clocks.get("reply")
    return {
        "number": ticket.number,
        "title": ticket.title,
        "urgency": ticket.urgency.value,
        "urgency_label": URGENCY_LABELS.get(ticket.urgency.value, ""),
        "place": place_text(reference.region_label(snap, ticket.region_code), ticket.address),
        "status_label": STATUS_LABELS[ticket.status] if is_lead else PART_LABELS[ticket.task_status],
        "lead_status_label": "" if is_lead else STATUS_LABELS[ticket.status],
        "role": ticket.task_role.value,
        "task_status": ticket.task_status.value,
        "due_stage": STAGE_LABELS.get(stage, ""),
        "due_at": due,
        "reply_due_at": ticket.reply_due_at if stage != "reply" else None,
        "countdown": PAUSED if paused else (STAGE_LABELS[stage] + countdown(due, now) if due and not waiting else ""),
        "late": bool(due) and not paused and due < now,
        "paused": paused,
        "overdue_stages": [STAGE_LABELS[s] for s in overdue],
        "due_soon": not overdue and reply_due is not None and now <= reply_due <= now + DUE_SOON,
        "is_lead": is_lead,
        "waiting": waiting,
        # 反馈 needs the caller contacted (办理中); a co-handler replies on its accepted part.
        "may_reply": not is_lead or ticket.status == Status.in_progress,
        "reopen_count": ticket.reopen_count or 0,
    }


def _reopen_notes(ctx: PageContext, sections: dict[str, list[dict[str, Any]]], ids: dict[str, int]) -> None:
    """A reopened (重办) row carries why: the reason given and the caller's words at the callback."""
    found = queries.last_reopens(ctx.session, sorted({ids[r["number"]] for rows in sections.values()
                                                      for r in rows if r["reopen_count"]}))
    for rows in sections.values():
        for r in rows:
            event = found.get(ids[r["number"]])
            if event is None:
                continue
            words = (event.details or {}).get("caller_words")
            r["reopen_reason"] = event.reason
            r["caller_words"] = words if words and words != event.reason else None


SECTION_KEYS = {"待签收": "accept", "办理中": "doing", "即将到期": "soon", "已超期": "late"}
INBOX_PAGE = 50


def inbox(ctx: PageContext, unit_id: int, section: str = "", page_no: int = 1) -> dict[str, Any]:
    """The four sections (one page each, deadline order), their totals and the links to the other
    pages of a long section (``?section=late&page_no=2``): only the open tasks' columns are read."""
    snap, now = reference.snapshot(ctx.session), clock.now()
    names = {key: name for name, key in SECTION_KEYS.items()}
    pages = {names[section]: page_no} if section in names else {}
    found = queries.unit_inbox(ctx.session, ctx.scope, unit_id, INBOX_STATUSES, now, due_soon=DUE_SOON,
                               per_page=INBOX_PAGE, pages=pages)
    sections = {name: [_row(snap, r, now) for r in found.rows[name]] for name in SECTION_KEYS}
    _reopen_notes(ctx, sections, {r.number: r.id for rows in found.rows.values() for r in rows})
    extra = "" if ctx.user.role == Role.handler else f"unit_id={unit_id}&"
    more: dict[str, str] = {}
    less: dict[str, str] = {}
    for i, (name, key) in enumerate(SECTION_KEYS.items(), 1):
        shown = found.pages[name]
        if shown * found.per_page < found.totals[name]:
            more[name] = f"/unit?{extra}section={key}&page_no={shown + 1}#section-{i}"
        if shown > 1:
            less[name] = f"/unit?{extra}section={key}&page_no={shown - 1}#section-{i}"
    return {"sections": sections, "totals": found.totals, "more": more, "less": less, "section_pages": found.pages}


def _render(request: Request, ctx: PageContext, unit_id: int | None, status_code: int = 200,
            error: str | None = None, typed: dict[str, Any] | None = None, section: str = "",
            page_no: int = 1, notice: str | None = None) -> Response:
    if unit_id is None:
        return page(request, "unit/inbox.html", status_code=status_code, sections={}, unit_name="", unit_id=None,
                    error=error or "请选择承办单位（?unit_id=单位编号）", typed=typed or {}, title="本单位工单",
                    notice=None)
    snap, now = reference.snapshot(ctx.session), clock.now()
    # Open supervision orders first: they are answered on the ticket page, and nothing else points there.
    open_orders = [{"number": number, "title": title, "level": ORDER_LEVEL_LABELS[o.level], "note": o.note,
                    "due_at": o.due_at, "countdown": countdown(o.due_at, now), "overdue": now > o.due_at}
                   for o, number, title in orders.open_listing(ctx.session, actor=ctx.user, unit_id=unit_id)]
    return page(request, "unit/inbox.html", status_code=status_code, **inbox(ctx, unit_id, section, page_no),
                unit_name=snap.units.get(unit_id, ("", "", False))[1], unit_id=unit_id, open_orders=open_orders,
                error=error, typed=typed or {}, title="本单位工单", notice=notice)


def done_notice(done: str, number: str) -> str | None:
    """The notice for ``?done=<event>&number=<ticket>``: fixed texts only, and a number made of digits
    and dashes, so a crafted link cannot put words of its own on the page."""
    if done not in DONE or not re.fullmatch(r"[0-9-]{1,20}", number):
        return None
    return DONE[done].format(n=number)


@router.get("/unit")
def unit_inbox(request: Request, unit_id: int | None = None, section: str = "", page_no: int = 1,
               done: str = "", number: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        return _render(request, ctx, _unit_id(ctx, unit_id), section=section, page_no=page_no,
                       notice=done_notice(done, number))


def _act(request: Request, number: str, csrf: str, action: str, unit_id: int | None, **fields: Any) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        uid = _unit_id(ctx, unit_id)
        back = {} if ctx.user.role == Role.handler or uid is None else {"unit_id": uid}
        try:
            ticket = queries.get_ticket(ctx.session, ctx.scope, number)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="工单不存在", message=missing.message)
        try:
            event = _apply(ctx, ticket, action, uid, fields)
            ctx.session.flush()
        except DomainError as err:
            ctx.session.rollback()
            typed = {"number": number, "action": action, **fields}
            return _render(request, ctx, uid, status_code=err.http_status, error=err.message, typed=typed)
        query = urlencode({**back, "done": event.action, "number": ticket.number})
        return RedirectResponse(f"/unit?{query}", status_code=303)


def _apply(ctx: PageContext, ticket: Ticket, action: str, unit_id: int | None,
           fields: dict[str, Any]) -> TicketEvent:
    actor = ctx.user
    part = unit_id if actor.role != Role.handler else None
    if action == "accept":
        return lifecycle.accept(ctx.session, ticket, actor=actor, unit_id=part)
    if action == "contact":
        return lifecycle.record_contact(ctx.session, ticket, actor=actor, note=fields.get("note") or None)
    if action == "reply":
        return lifecycle.reply(ctx.session, ticket, actor=actor, text=fields.get("text", ""), unit_id=part)
    if action == "return":
        return lifecycle.request_return(ctx.session, ticket, actor=actor, reason=fields.get("reason", ""))
    if action == "suspend":
        return lifecycle.suspend(ctx.session, ticket, actor=actor, reason=fields.get("reason", ""))
    if action == "resume":
        return lifecycle.resume(ctx.session, ticket, actor=actor, note=fields.get("note") or None)
    if action == "extension":
        raw = unicodedata.normalize("NFKC", str(fields.get("amount", ""))).strip()  # "３" typed full-width
        if not raw.isascii() or not raw.isdigit():
            raise Invalid("延期时长请填写 1–60 之间的整数（工作日）", details={"field": "amount"})
        return lifecycle.request_extension(ctx.session, ticket, actor=actor, amount=int(raw), unit="working_days",
                                           reason=fields.get("reason", ""))
    raise NotFound(f"未知操作：{action}")  # pragma: no cover - routes below name every action


@router.post("/unit/{number}/accept")
def accept(request: Request, number: str, csrf: str = Form(""), unit_id: int | None = Form(None)) -> Response:
    return _act(request, number, csrf, "accept", unit_id)


@router.post("/unit/{number}/contact")
def contact(request: Request, number: str, csrf: str = Form(""), note: str = Form(""),
            unit_id: int | None = Form(None)) -> Response:
    return _act(request, number, csrf, "contact", unit_id, note=note)


@router.post("/unit/{number}/reply")
def reply(request: Request, number: str, csrf: str = Form(""), text: str = Form(""),
          unit_id: int | None = Form(None)) -> Response:
    return _act(request, number, csrf, "reply", unit_id, text=text)


@router.post("/unit/{number}/return")
def request_return(request: Request, number: str, csrf: str = Form(""), reason: str = Form(""),
                   unit_id: int | None = Form(None)) -> Response:
    return _act(request, number, csrf, "return", unit_id, reason=reason)


@router.post("/unit/{number}/extension")
def request_extension(request: Request, number: str, csrf: str = Form(""), amount: str = Form(""),
                      reason: str = Form(""), unit_id: int | None = Form(None)) -> Response:
    return _act(request, number, csrf, "extension", unit_id, amount=amount, reason=reason)


@router.post("/unit/{number}/suspend")
def suspend(request: Request, number: str, csrf: str = Form(""), reason: str = Form(""),
            unit_id: int | None = Form(None)) -> Response:
    return _act(request, number, csrf, "suspend", unit_id, reason=reason)


@router.post("/unit/{number}/resume")
def resume(request: Request, number: str, csrf: str = Form(""), note: str = Form(""),
           unit_id: int | None = Form(None)) -> Response:
    return _act(request, number, csrf, "resume", unit_id, note=note)
