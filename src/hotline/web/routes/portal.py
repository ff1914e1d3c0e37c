"""The citizen portal (群众端), no account: submit a request, follow it with number + query code, and
rate the handling when the ticket waits for its callback.

No session here, so CSRF uses a double-submit cookie: a random token in a SameSite=Strict cookie
(path /portal) that every form repeats in its hidden ``csrf`` field; a post whose field does not
match the cookie is refused (403).

Anti-abuse:

* per phone: at most ``PHONE_LIMIT`` web tickets per phone in the last 24 hours, counted in the
  database (tickets with channel ``web`` by ``caller_phone`` and ``received_at``) in the transaction
  that registers the new one, so it holds across processes and for submissions sent at once (on
  PostgreSQL they queue on the phone's advisory lock; SQLite runs one writer at a time);
* per client IP: at most ``IP_LIMIT`` submissions an hour, ``TRACK_FAIL_LIMIT`` wrong
  number/code attempts per ``TRACK_FAIL_WINDOW``, and ``RECOVER_LIMIT`` 找回查询码 requests per
  ``RECOVER_WINDOW``: sliding windows counted in the database (:mod:`hotline.kit.ratelimit`), so
  every web process counts the same hits and a restart forgets none. A submission's and a
  request's hit is taken in the transaction that registers the ticket or writes the SMS;
* 找回查询码 per phone: at most ``query_codes.PER_DAY`` SMS a day, counted in the outbox. The page
  says the same whether the number has tickets or not, or had its SMS for the day.
"""

from __future__ import annotations

import hmac
import secrets
import unicodedata
import zlib
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hotline.callbacks import service as callbacks
from hotline.classification.place_field import NOT_FOUND, resolve_place
from hotline.directory import lookup, reference
from hotline.incidents import public_notice
from hotline.kit import clock, ratelimit
from hotline.kit.errors import DomainError, Invalid
from hotline.notices import query_codes
from hotline.tickets import lifecycle, validation
from hotline.tickets.models import Channel, Ticket, TicketEvent
from hotline.tickets.numbering import typed_number
from hotline.tickets.states import Status
from hotline.tickets.views import KIND_LABELS
from hotline.web.render import page
from hotline.web.session import database

router = APIRouter(include_in_schema=False)

COOKIE = "portal_csrf"
DONE_COOKIE, DONE_PATH, DONE_SECONDS = "portal_done", "/portal/done", 600
RATED_COOKIE, RATED_PATH, RATED_SECONDS = "portal_rated", "/portal/rated", 600
FIELDS = ("caller_name", "caller_phone", "kind", "category_code", "region", "address", "content")
PHONE_LIMIT, PHONE_WINDOW = 3, timedelta(hours=24)
PHONE_LOCK = 12345_0013  # first key of the (int, int) advisory locks that queue one phone's submissions
IP_LIMIT, IP_WINDOW = 5, timedelta(hours=1)
TRACK_FAIL_LIMIT, TRACK_FAIL_WINDOW = 10, timedelta(minutes=15)
RECOVER_LIMIT, RECOVER_WINDOW = 5, timedelta(hours=1)
SUBMIT = ratelimit.Limit("portal_submit", IP_LIMIT, IP_WINDOW)
TRACK_FAIL = ratelimit.Limit("portal_track_fail", TRACK_FAIL_LIMIT, TRACK_FAIL_WINDOW)
RECOVER = ratelimit.Limit("portal_recover", RECOVER_LIMIT, RECOVER_WINDOW)
RECOVER_SENT = ("如该号码有工单，查询码已发送。短信将列出该号码最近的工单号和查询码；"
                "夜间（22:00–07:00）的短信于次日 7:00 后发出。如仍未收到，请拨打 12345 热线。")
WRONG = "工单号或查询码不正确"

SATISFACTION_CHOICES = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}

# What a citizen sees of the status: the staff-side review steps all read "办理中".
CITIZEN_STATUS: dict[Status, str] = {
    Status.registered: "已受理，等待派单",
    Status.dispatched: "已派单，等待承办单位签收",
    Status.accepted: "办理中",
    Status.in_progress: "办理中",
    Status.suspended: "暂缓办理",
    Status.return_requested: "办理中",
    Status.replied: "办理中",
    Status.callback_pending: "已答复，待您评价",
    Status.callback_done: "已回访",
    Status.closed: "已办结",
    Status.handed_off: "已转应急部门处理",
    Status.refused: "不予受理",
    Status.merged: "已与同一问题的工单合并办理",
    Status.archived: "已办结",
}


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- CSRF: double-submit cookie -------------------------------------------------------------

def _token(request: Request) -> str:
    return request.cookies.get(COOKIE) or secrets.token_urlsafe(24)


def _render(request: Request, template: str, *, status_code: int = 200, token: str | None = None,
            **context: Any) -> HTMLResponse:
    token = token or _token(request)
    request.state.csrf = token  # page() puts it in the forms' hidden field
    response = page(request, template, status_code=status_code, **context)
    if request.cookies.get(COOKIE) != token:
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/portal",
                            secure=request.url.scheme == "https")
    return response


def _csrf_ok(request: Request, posted: str) -> bool:
    cookie = request.cookies.get(COOKIE) or ""
    return bool(cookie) and hmac.compare_digest(cookie, posted)


def _refused_csrf(request: Request) -> HTMLResponse:
    return _render(request, "portal/message.html", status_code=403, title="页面已过期",
                   message="表单校验失败（页面已过期或缺少安全令牌），请返回刷新页面后重新提交。")


def notices(session: Session, snap: reference.Snapshot, region_code: str | None = None) -> list[dict[str, Any]]:
    """The live public notices about incidents (all, or those covering ``region_code``), for citizens."""
    return [{"area": reference.region_label(snap, x.incident.area_code) if x.incident.area_code in snap.regions
             else "", "text": x.notice.text, "at": x.notice.published_at}
            for x in public_notice.live(session, region_code=region_code, limit=5)]


def _hint(session: Session, snap: reference.Snapshot, typed: str, *, live: bool) -> dict[str, Any] | None:
    """What shows under the location field: the place it will be registered as (with any public
    notice covering it: the citizen may not need to report the outage), or the places to choose
    from; ``live`` (as the citizen types) adds the problem as a note, the form shows it as the
    field's error instead."""
    if not typed.strip():
        return None
    place = resolve_place(snap, typed[:40])
    if place.code is not None:
        return {"label": reference.region_label(snap, place.code), "options": (), "note": None,
                "notices": notices(session, snap, place.code)}
    return {"label": None, "options": place.options, "total": place.total, "note": place.problem if live else None,
            "notices": []}


@router.get("/portal/regions")
def region_hints(request: Request, region: str = "") -> Response:
    """The hints under the location field as the citizen types (htmx)."""
    with database(request).transaction(write=False) as session:
        return page(request, "portal/regions.html", hint=_hint(session, reference.snapshot(session), region, live=True))


# --- Submit ---------------------------------------------------------------------------------

def _form(request: Request, session: Session, *, status_code: int = 200, values: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None) -> HTMLResponse:
    values = values or {"kind": "help"}
    errors = errors or {}
    snap = reference.snapshot(session)
    hint = _hint(session, snap, values.get("region", ""), live=False) if errors else None
    return _render(request, "portal/submit.html", status_code=status_code, title="我要反映",
                   v={f: values.get(f, "") for f in FIELDS}, errors=errors, kinds=KIND_LABELS,
                   categories=lookup.leaf_categories(snap), hint=hint, notices=notices(session, snap))


@router.get("/portal")
def portal_form(request: Request) -> Response:
    with database(request).transaction(write=False) as session:
        return _form(request, session)


def _phone_count(session: Session, phone: str) -> int:
    """The phone's web tickets in the last PHONE_WINDOW. On PostgreSQL the phone's advisory lock is
    taken first and held until the submission's transaction ends, so a submission of the same phone
    in another process waits and then counts the ticket this one registers."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(phone.encode()) - 2**31  # a signed int4
        session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": PHONE_LOCK, "b": key})
    since = clock.now() - PHONE_WINDOW
    return session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.channel == Channel.web, Ticket.caller_phone == phone, Ticket.received_at >= since)) or 0


class _Refused(Exception):
    """The submission is refused: each problem by field ('' for the form as a whole)."""

    def __init__(self, errors: dict[str, str], status_code: int = 422) -> None:
        super().__init__(errors)
        self.errors, self.status_code = errors, status_code


def _checked(session: Session, snap: reference.Snapshot, values: dict[str, str]) -> dict[str, Any]:
    """Every field checked, the registration's arguments returned; ``_Refused`` with all the
    problems at once otherwise."""
    errors: dict[str, str] = {}
    status_code = 422

    def check(field: str, run: Any) -> Any:
        try:
            return run()
        except Invalid as refused:
            errors[field] = refused.message
            return None

    name = check("caller_name", lambda: validation.require_text(values["caller_name"], "caller_name", "称呼",
                                                                 max_chars=60, required=False))
    phone = None
    if not values["caller_phone"]:
        errors["caller_phone"] = "请留下手机号码，方便承办单位与您联系"
    else:
        phone = check("caller_phone", lambda: validation.normalize_phone(values["caller_phone"]))
    if phone and _phone_count(session, phone) >= PHONE_LIMIT:
        errors["caller_phone"] = (f"该手机号码今天已提交 {PHONE_LIMIT} 件诉求，已达上限；"
                                  "请明天再提交，或拨打 12345 热线反映。")
        status_code = 429
    check("kind", lambda: validation.check_kind(values["kind"]))
    check("category_code", lambda: validation.check_category(snap, values["category_code"]))
    place = resolve_place(snap, values["region"])
    if place.code is None:
        errors["region"] = place.problem or NOT_FOUND.format(values["region"])
    address = check("address", lambda: validation.require_text(values["address"], "address", "详细地址",
                                                                max_chars=200, required=False))
    content = check("content", lambda: validation.require_text(values["content"], "content", "诉求内容",
                                                                max_chars=validation.MAX_CONTENT_CHARS))
    if errors:
        raise _Refused({f: errors[f] for f in FIELDS if f in errors}, status_code)
    return {"kind": values["kind"], "category_code": values["category_code"], "region_code": place.code,
            "content": content, "caller_name": name, "caller_phone": phone, "address": address}


@router.post("/portal/submit")
async def portal_submit(request: Request) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in FIELDS}
    picked = str(form.get("region_pick") or "").strip()  # one of the places offered under the field
    if picked:
        values["region"] = picked
    if not _csrf_ok(request, str(form.get("csrf") or "")):
        return _refused_csrf(request)
    db = database(request)
    try:
        with db.transaction(write=True) as session:
            # The network's hit is taken first and commits with the ticket; a refusal rolls it back.
            if not ratelimit.take(session, SUBMIT, _ip(request)):
                raise _Refused({"": f"本网络提交过于频繁（每小时最多 {IP_LIMIT} 件），请稍后再试，或拨打 12345 热线反映。"}, 429)
            ticket = _register(session, values)
            number, code = ticket.number, ticket.query_code
    except _Refused as refused:
        with db.transaction(write=False) as session:
            return _form(request, session, status_code=refused.status_code, values=values, errors=refused.errors)
    return _handed_over(request, DONE_PATH, DONE_COOKIE, DONE_SECONDS, number, code)


def _register(session: Session, values: dict[str, str]) -> Ticket:
    """The submission checked and registered in the caller's transaction: the phone's count and the
    new ticket are committed together."""
    fields = _checked(session, reference.snapshot(session), values)
    try:
        ticket = lifecycle.register(session, actor=None, channel=Channel.web, urgency="normal", **fields)
    except DomainError as refused:  # what the checks above do not cover
        field = str((refused.details or {}).get("field") or "")
        raise _Refused({field if field in FIELDS else "": refused.message}) from refused
    session.flush()
    return ticket


def _handed_over(request: Request, path: str, cookie: str, seconds: int, number: str, code: str) -> Response:
    """303 to ``path``, the ticket named in a cookie only that page reads (never in the URL)."""
    response = RedirectResponse(path, status_code=303)
    response.set_cookie(cookie, f"{number}.{code}", max_age=seconds, httponly=True, samesite="strict", path=path,
                        secure=request.url.scheme == "https")
    return response


def _handed(request: Request, session: Session, cookie: str) -> Ticket | None:
    """The ticket the cookie names, when its code is right (a wrong one counts as a failed try)."""
    number, _, code = (request.cookies.get(cookie) or "").partition(".")
    if not number:
        return None
    if ratelimit.full(session, TRACK_FAIL, _ip(request)):
        return None
    ticket = _find(session, number, code)
    if ticket is None:
        _failed(request)
    return ticket


def _failed(request: Request) -> None:
    """A wrong number or code, counted against the network (in a short write of its own: the
    lookup is a read)."""
    with database(request).transaction(write=True) as session:
        ratelimit.add(session, TRACK_FAIL, _ip(request))


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(DONE_PATH)
def portal_done(request: Request) -> Response:
    """The number and query code of the request just filed, once: the cookie is cleared as it is shown."""
    with database(request).transaction(write=False) as session:
        ticket = _handed(request, session, DONE_COOKIE)
        if ticket is None:
            response = _render(request, "portal/message.html", title="提交结果已显示过", tone="muted",
                               message="为保护您的查询码，提交结果只显示一次。工单号和查询码已通过受理短信发送到您留下的"
                                       "手机号码，凭它们可在「进度查询」中查看办理进度；如未收到，可在「进度查询」中"
                                       "找回查询码，或拨打 12345 热线。")
        else:
            done = {"number": ticket.number, "query_code": ticket.query_code,
                    "place": reference.region_label(reference.snapshot(session), ticket.region_code)}
            response = _render(request, "portal/done.html", title="提交成功", done=done)
    response.delete_cookie(DONE_COOKIE, path=DONE_PATH, httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
    return _no_store(response)


# --- Track and rate -------------------------------------------------------------------------

def normalized(typed: str) -> str:
    """What a citizen typed, as stored: full-width digits and hyphen made ASCII (NFKC), spaces
    dropped, upper case."""
    return "".join(unicodedata.normalize("NFKC", typed).split()).upper()


def normalized_number(typed: str) -> str:
    """A ticket number as stored: normalised, and ``20261129000001`` (typed without the hyphen)
    as ``20261129-000001``."""
    return typed_number(typed)


def _find(session: Session, number: str, code: str) -> Ticket | None:
    number, code = normalized_number(number), normalized(code)
    if not number or not code or len(number) > 20:
        return None
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None or not hmac.compare_digest(ticket.query_code.encode(), code.encode()):
        return None
    return ticket


def citizen_timeline(session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    """The ticket's events as a citizen reads them: units by name, never staff, internal steps left out."""
    events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                             .order_by(TicketEvent.at, TicketEvent.id)).all()
    lines: list[dict[str, Any]] = []
    last_reply: str | None = None

    def add(at: Any, text: str, detail: str | None = None) -> None:
        lines.append({"at": at, "text": text, "detail": detail})

    for e in events:
        d = e.details or {}
        match e.action:
            case "register":
                add(e.at, "受理", "您的诉求已登记受理")
            case "dispatch" | "redispatch":
                add(e.at, f"派单至{d.get('lead_unit') or '承办单位'}", None)
            case "reopen":
                unit = d.get("lead_unit")
                add(e.at, "重新办理", f"已交{unit}重新办理" if unit else None)
            case "accept":  # each step its own heading, in words addressed to the caller
                add(e.at, "已签收", "承办单位已签收，正在办理")
            case "record_contact":
                add(e.at, "已联系您", "承办单位已与您联系")
            case "suspend":
                add(e.at, "暂缓办理", e.reason)
            case "resume":
                add(e.at, "恢复办理", None)
            case "incident_notice":  # the public notice about the incident behind the request
                add(e.at, "相关公告", d.get("text"))
            case "reply":
                last_reply = d.get("text")
            case "accept_reply":
                add(e.at, "答复", last_reply or ticket.reply_text)
            case "answer_directly":
                add(e.at, "答复", d.get("answer"))
            case "hand_off":
                add(e.at, f"已转 {d.get('to') or ticket.handoff_to or ''} 处理", None)
            case "refuse":
                add(e.at, "不予受理", e.reason)
            case "merge":
                add(e.at, "合并办理", "与同一问题的其他工单合并办理")
            case "record_callback":
                add(e.at, "回访", "已记录您的评价")
            case "close":
                add(e.at, "办结", None)
    return lines


def _track_page(request: Request, session: Session, ticket: Ticket, *, status_code: int = 200,
                code: str = "", error: str | None = None, rated: bool = False,
                r: dict[str, str] | None = None) -> HTMLResponse:
    category = reference.snapshot(session).categories.get(ticket.category_code)
    return _render(request, "portal/ticket.html", status_code=status_code, title=f"工单 {ticket.number}",
                   t=ticket, code=code, status_text=CITIZEN_STATUS.get(ticket.status, ""),
                   kind=KIND_LABELS.get(ticket.kind, ticket.kind), category=category.name if category else "",
                   timeline=citizen_timeline(session, ticket), can_rate=ticket.status == Status.callback_pending,
                   choices=SATISFACTION_CHOICES, error=error, rated=rated, r=r or {})


def _wrong(request: Request, number: str, *, too_many: bool = False) -> HTMLResponse:
    message = ("查询失败次数过多，请 15 分钟后再试。" if too_many else WRONG)
    return _render(request, "portal/track.html", status_code=429 if too_many else 404, title="进度查询",
                   number=number, error=message)


@router.get("/portal/track")
def track_form(request: Request, number: str = "") -> Response:
    return _render(request, "portal/track.html", title="进度查询", number=number.strip()[:20], error=None)


@router.post("/portal/track")
async def track(request: Request) -> Response:
    form = await request.form()
    number, code = str(form.get("number") or "").strip()[:40], str(form.get("code") or "").strip()[:40]
    if not _csrf_ok(request, str(form.get("csrf") or "")):
        return _refused_csrf(request)
    with database(request).transaction(write=False) as session:
        if ratelimit.full(session, TRACK_FAIL, _ip(request)):
            return _wrong(request, number, too_many=True)
        ticket = _find(session, number, code)
        if ticket is not None:
            return _track_page(request, session, ticket, code=code)
    _failed(request)
    return _wrong(request, number)


@router.post("/portal/rate")
async def rate(request: Request) -> Response:
    form = await request.form()
    number, code = str(form.get("number") or "").strip()[:40], str(form.get("code") or "").strip()[:40]
    r = {k: str(form.get(k) or "").strip() for k in ("resolved", "satisfaction", "comment")}
    if not _csrf_ok(request, str(form.get("csrf") or "")):
        return _refused_csrf(request)
    db = database(request)
    try:
        with db.transaction(write=True) as session:
            if ratelimit.full(session, TRACK_FAIL, _ip(request)):
                return _wrong(request, number, too_many=True)
            ticket = _find(session, number, code)
            if ticket is None:
                ratelimit.add(session, TRACK_FAIL, _ip(request))
                return _wrong(request, number)
            if ticket.status != Status.callback_pending:
                raise Invalid("该工单当前不在待评价状态，无需评价", code="not_rateable")
            if r["resolved"] not in ("yes", "no"):
                raise Invalid("请选择问题是否已解决", code="missing_field", details={"field": "resolved"})
            if r["satisfaction"] not in SATISFACTION_CHOICES:
                raise Invalid("请选择满意程度", code="missing_field", details={"field": "satisfaction"})
            callbacks.record(session, ticket, actor=None, reached=True, resolved=r["resolved"] == "yes",
                             satisfaction=r["satisfaction"], comment=r["comment"] or None)
            session.flush()
            number, code = ticket.number, ticket.query_code
    except DomainError as refused:
        with db.transaction(write=False) as session:
            ticket = _find(session, number, code)
            if ticket is None:
                return _wrong(request, number)
            return _track_page(request, session, ticket, status_code=422, code=code, error=refused.message, r=r)
    return _handed_over(request, RATED_PATH, RATED_COOKIE, RATED_SECONDS, number, code)


@router.get(RATED_PATH)
def portal_rated(request: Request) -> Response:
    """The ticket just rated, with the thanks; a reload shows it again (not 「无需评价」)."""
    with database(request).transaction(write=False) as session:
        ticket = _handed(request, session, RATED_COOKIE)
        if ticket is None:
            return _no_store(_render(request, "portal/message.html", title="评价已提交", tone="muted",
                                     message="评价结果页已过期。如需查看办理进度，请在「进度查询」中输入工单号和查询码。"))
        return _no_store(_track_page(request, session, ticket, rated=True))


# --- 找回查询码 ------------------------------------------------------------------------------

def _recover_form(request: Request, *, status_code: int = 200, phone: str = "", error: str | None = None,
                  sent: bool = False) -> HTMLResponse:
    return _render(request, "portal/recover.html", status_code=status_code, title="找回查询码", phone=phone,
                   error=error, sent=RECOVER_SENT if sent else None)


@router.get("/portal/recover")
def recover_form(request: Request) -> Response:
    return _recover_form(request)


@router.post("/portal/recover")
async def recover(request: Request) -> Response:
    """The query codes of a phone's latest tickets, sent by SMS to that phone
    (``notices.query_codes``). The answer is the same whether it has tickets or not; only a
    number that cannot be one, or too many requests from this network, is told so."""
    form = await request.form()
    typed = str(form.get("phone") or "").strip()[:40]
    if not _csrf_ok(request, str(form.get("csrf") or "")):
        return _refused_csrf(request)
    too_many = f"本网络找回查询码过于频繁（每小时最多 {RECOVER_LIMIT} 次），请稍后再试，或拨打 12345 热线。"
    with database(request).transaction(write=False) as session:
        if ratelimit.full(session, RECOVER, _ip(request)):
            return _recover_form(request, status_code=429, phone=typed, error=too_many)
    try:
        phone = validation.normalize_phone(typed)
    except Invalid as refused:
        return _recover_form(request, status_code=422, phone=typed, error=refused.message)
    if phone is None or not query_codes.is_mobile(phone):  # the number's kind only: nothing about tickets
        return _recover_form(request, status_code=422, phone=typed,
                             error="查询码通过短信发送，请输入提交诉求时留下的手机号码")
    with database(request).transaction(write=True) as session:
        if not ratelimit.take(session, RECOVER, _ip(request)):  # another process took the last one meanwhile
            return _recover_form(request, status_code=429, phone=typed, error=too_many)
        query_codes.send_query_codes(session, phone)
    return _no_store(_recover_form(request, sent=True))
