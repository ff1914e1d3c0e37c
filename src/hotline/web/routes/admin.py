"""System administration (系统管理): users, failed messages, message templates, operating rules and
the holiday table (the directory in ``admin_directory.py``, API tokens in ``admin_tokens.py``). Admins only; every change is a POST with the session's CSRF token, a refusal
renders the page again with the message in Chinese and what was typed, a success redirects back
with a notice. The rules themselves are the domain's and the API's (``accounts.service``,
``api.routes.notify``, ``directory.settings``, ``directory.holidays``), reused, not repeated.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from hotline.accounts.models import ROLE_LABELS, Role, User
from hotline.accounts.service import add_user, check_password, edit_user, forget_tokens, reset_password
from hotline.accounts.service import set_active as set_user_active
from hotline.directory import holidays as holiday_table
from hotline.directory import reference
from hotline.directory import settings as rules
from hotline.directory.models import Holiday, Unit, UnitKind
from hotline.directory.settings import all_rules
from hotline.kit import clock
from hotline.kit.errors import DomainError, Invalid
from hotline.notices.admin import check_template, count_in, messages_in, outbox_view, retry
from hotline.notices.admin import placeholder_names as _names
from hotline.notices.admin import shipped_by_code as _shipped
from hotline.notices.labels import template_label
from hotline.notify.models import MessageState, MessageTemplate
from hotline.notify.templates import invalidate as forget_templates
from hotline.supervision.orders import follow_holiday_change, moved_text
from hotline.web.render import page
from hotline.web.routes.unit import refused
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)

MENU = [("/admin/users", "用户"), ("/admin/units", "承办单位"), ("/admin/categories", "分类与时限"),
        ("/admin/catalogue", "派单目录"), ("/admin/outbox", "发送失败的消息"), ("/admin/templates", "消息模板"),
        ("/admin/settings", "运行规则"), ("/admin/holidays", "节假日"),
        ("/admin/knowledge", "知识库"), ("/admin/tokens", "接口令牌")]


def _page(request: Request, template: str, title: str, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("typed", {})
    context.setdefault("error", None)
    return page(request, template, status_code=status_code, title=title, menu=MENU, **context)


def _back(path: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?notice={quote(notice)}", status_code=303)


def _not_admin(ctx: PageContext) -> bool:
    return ctx.user.role != Role.admin


def _refused(request: Request) -> Response:
    return refused(request, "只有管理员可以进入系统管理")


# ---------------------------------------------------------------- home


@router.get("/admin")
def admin_home(request: Request) -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        dead = count_in(ctx.session, MessageState.dead)
        users = len(list(ctx.session.scalars(select(User.id))))
        return _page(request, "admin/index.html", "系统管理", dead=dead, users=users,
                     years=holiday_table.years(ctx.session),
                     to_enter=holiday_table.year_to_enter(ctx.session, clock.local(clock.now()).date()))


# ---------------------------------------------------------------- users


def _users_page(request: Request, ctx: PageContext, *, status_code: int = 200, error: str | None = None,
                typed: dict[str, Any] | None = None, notice: str | None = None, edit: int = 0) -> Response:
    users = list(ctx.session.scalars(select(User).order_by(User.role, User.username)))
    units = list(ctx.session.execute(select(Unit.code, Unit.name, Unit.kind).where(Unit.active)
                                     .order_by(Unit.kind != UnitKind.hotline_center, Unit.code)))
    codes = {k: (code, name) for k, code, name in ctx.session.execute(select(Unit.id, Unit.code, Unit.name))}
    rows = [{"id": u.id, "username": u.username, "name": u.display_name, "role": ROLE_LABELS[u.role],
             "role_value": u.role.value, "unit": codes[u.unit_id][1] if u.unit_id in codes else "",
             "unit_code": codes[u.unit_id][0] if u.unit_id in codes else "", "phone": u.phone or "",
             "active": u.active, "me": u.id == ctx.user.id} for u in users]
    editing = next((r for r in rows if r["id"] == edit), None) if edit else None
    if editing is not None and editing["unit_code"] and all(c != editing["unit_code"] for c, _, _ in units):
        units.append((editing["unit_code"], editing["unit"] + "（已停用）", None))  # the user's own, kept
    return _page(request, "admin/users.html", "用户", status_code=status_code, rows=rows, units=units,
                 roles=list(ROLE_LABELS.items()), error=error, typed=typed or {}, notice=notice, editing=editing)


@router.get("/admin/users")
def users_page(request: Request, notice: str = "", edit: int = 0) -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        return _users_page(request, ctx, notice=notice or None, edit=edit)


@router.post("/admin/users")
def add_user_form(request: Request, csrf: str = Form(""), username: str = Form(""), display_name: str = Form(""),
                  role: str = Form(""), unit_code: str = Form(""), phone: str = Form(""),
                  password: str = Form("")) -> Response:
    typed = {"form": "add", "username": username, "display_name": display_name, "role": role,
             "unit_code": unit_code, "phone": phone}
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            if not display_name.strip():
                raise Invalid("请填写姓名")
            check_password(password)
            user = add_user(ctx.session, username=username.strip(), display_name=display_name.strip(),
                            role=role, unit_code=unit_code.strip() or None, password=password,
                            phone=phone.strip() or None)
        except DomainError as err:
            ctx.session.rollback()
            return _users_page(request, ctx, status_code=err.http_status, error=err.message, typed=typed)
        return _back("/admin/users", f"已添加用户 {user.username}（{ROLE_LABELS[user.role]}）")


@router.post("/admin/users/{user_id}")
def edit_user_form(request: Request, user_id: int, csrf: str = Form(""), display_name: str = Form(""),
                   role: str = Form(""), unit_code: str = Form(""), phone: str = Form("")) -> Response:
    typed = {"form": "edit", "display_name": display_name, "role": role, "unit_code": unit_code, "phone": phone}
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            user = edit_user(ctx.session, user_id=user_id, display_name=display_name, role=role,
                             unit_code=unit_code, phone=phone, by=ctx.user)
        except DomainError as err:
            ctx.session.rollback()
            return _users_page(request, ctx, status_code=err.http_status, error=err.message, typed=typed,
                               edit=user_id)
        done = f"已保存用户 {user.username}（{ROLE_LABELS[user.role]}）"
    forget_tokens()  # after the commit too: a token read in between would keep the old role
    return _back("/admin/users", done)


@router.post("/admin/users/{user_id}/password")
def reset_password_form(request: Request, user_id: int, csrf: str = Form(""), password: str = Form("")) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            user = reset_password(ctx.session, user_id=user_id, password=password, keep_session_id=ctx.session_id)
        except DomainError as err:
            ctx.session.rollback()
            return _users_page(request, ctx, status_code=err.http_status, error=err.message,
                               typed={"form": "password"}, edit=user_id)
        return _back("/admin/users", f"已重设用户 {user.username} 的密码，请当面告知本人"
                     + ("" if user.id == ctx.user.id else "；其已登录的浏览器需重新登录"))


@router.post("/admin/users/{user_id}/active")
def set_active(request: Request, user_id: int, csrf: str = Form(""), active: str = Form("")) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        if user_id == ctx.user.id:
            return _users_page(request, ctx, status_code=409, error="不能停用自己的账号")
        try:
            user = set_user_active(ctx.session, user_id=user_id, active=active == "1", by=ctx.user)
        except DomainError as err:
            ctx.session.rollback()
            return _users_page(request, ctx, status_code=err.http_status, error=err.message)
        done = (f"已启用用户 {user.username}" if user.active
                else f"已停用用户 {user.username}；其已登录的浏览器已退出登录")
    forget_tokens()  # a deactivated user's API token is refused on its next call
    return _back("/admin/users", done)


# ---------------------------------------------------------------- failed messages


OUTBOX_PER_PAGE = 100


def _page_number(page_no: str) -> int:
    return int(page_no) if page_no.isdigit() and 0 < int(page_no) < 100_000 else 1


def _outbox_page(request: Request, ctx: PageContext, page_no: int, *, status_code: int = 200,
                 error: str | None = None, notice: str | None = None) -> Response:
    """One page of the failed messages, newest first, and how many there are in all: the page is
    cut in SQL and the total counted there, so a gateway down for a day does not load them all."""
    total = count_in(ctx.session, MessageState.dead)
    pages = max(1, -(-total // OUTBOX_PER_PAGE))
    number = min(page_no, pages)  # a page past the end (messages retried meanwhile): the last one
    found = messages_in(ctx.session, MessageState.dead, OUTBOX_PER_PAGE, offset=(number - 1) * OUTBOX_PER_PAGE)
    return _page(request, "admin/outbox.html", "发送失败的消息", status_code=status_code,
                 rows=outbox_view(ctx.session, found), total=total, page_no=number, pages=pages,
                 error=error, notice=notice)


@router.get("/admin/outbox")
def outbox_page(request: Request, notice: str = "", page_no: str = "1") -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        return _outbox_page(request, ctx, _page_number(page_no), notice=notice or None)


@router.post("/admin/outbox/retry")
def outbox_retry(request: Request, csrf: str = Form(""), ids: list[str] = Form([]),
                 all: str = Form(""), page_no: str = Form("1")) -> Response:  # noqa: A002 (the form field's name)
    ids_raw, every = ids, all == "1"
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        chosen = sorted({int(v) for v in ids_raw if v.isdigit() and 0 < int(v) < 2**31})
        if not every and not chosen:
            return _outbox_page(request, ctx, _page_number(page_no), status_code=422,
                                error="请先勾选要重新发送的消息，或点击「全部重新发送」")
        done = retry(ctx.session, None if every else chosen)
        notice = f"已重新放入发送队列 {done['retried']} 条消息"
        if done["skipped"]:
            notice += f"；{len(done['skipped'])} 条已不在失败列表中，未处理"
        return _back("/admin/outbox", notice)


# ---------------------------------------------------------------- message templates


def _allowed(template: MessageTemplate) -> list[str]:
    """The placeholders a template may use: those of its shipped default (as the API's check)."""
    default = _shipped().get(template.code)
    return _names(default["subject"], default["body"]) if default else _names(template.subject, template.body)


def _templates_page(request: Request, ctx: PageContext, *, status_code: int = 200, error: str | None = None,
                    typed: dict[str, Any] | None = None, notice: str | None = None) -> Response:
    rows = [{"code": t.code, "label": template_label(t.code), "channel": t.channel, "subject": t.subject, "body": t.body,
             "allowed": _allowed(t), "updated_at": t.updated_at}
            for t in ctx.session.scalars(select(MessageTemplate).order_by(MessageTemplate.code))]
    return _page(request, "admin/templates.html", "消息模板", status_code=status_code, rows=rows,
                 error=error, typed=typed or {}, notice=notice)


@router.get("/admin/templates")
def templates_page(request: Request, notice: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        return _templates_page(request, ctx, notice=notice or None)


@router.post("/admin/templates/{code}")
def edit_template(request: Request, code: str, csrf: str = Form(""), subject: str = Form(""),
                  body: str = Form(""), confirm_dropped: str = Form("")) -> Response:
    typed: dict[str, Any] = {"code": code, "subject": subject, "body": body}
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        template = ctx.session.get(MessageTemplate, code) if len(code) <= 40 else None
        if template is None:
            return _templates_page(request, ctx, status_code=404, error=f"消息模板 {code} 不存在")
        try:
            if len(subject) > 200 or len(body) > 2000:
                raise Invalid("模板标题最多 200 字，正文最多 2000 字")
            default = _shipped().get(template.code)
            check_template(subject, body, allowed=_allowed(template), confirmed=confirm_dropped == "on",
                           default=_names(default["subject"], default["body"]) if default else None)
        except DomainError as err:
            typed["dropped"] = err.code == "placeholders_dropped"  # offer 确认删去占位符
            return _templates_page(request, ctx, status_code=err.http_status, error=err.message, typed=typed)
        template.subject, template.body, template.updated_at = subject, body, clock.now()
        ctx.session.flush()
    forget_templates()  # after the commit: the next render reads the new text
    return _back("/admin/templates", f"已保存消息模板「{template_label(code)}」（{code}）")


# ---------------------------------------------------------------- operating rules


def _settings_page(request: Request, ctx: PageContext, *, status_code: int = 200, error: str | None = None,
                   typed: dict[str, Any] | None = None, notice: str | None = None) -> Response:
    rows = [{**r, "value_text": rules.shown(r["key"], r["value"]), "default_text": rules.shown(r["key"], r["default"]),
             "range_text": f"{rules.number(r['min'])}–{rules.number(r['max'])}" if r["min"] is not None else "",
             "group": rules.group(r["key"])}
            for r in all_rules(ctx.session)]
    return _page(request, "admin/settings.html", "运行规则", status_code=status_code,
                 rows=rows, error=error, typed=typed or {}, notice=notice)


@router.get("/admin/settings")
def settings_page(request: Request, notice: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        return _settings_page(request, ctx, notice=notice or None)


@router.post("/admin/settings/{key}")
def edit_setting(request: Request, key: str, csrf: str = Form(""), value: str = Form(""),
                 reset: str = Form("")) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            if reset == "1":
                rules.reset(ctx.session, key)
                done = f"「{rules.RULES[key].label}」已恢复默认值 {rules.shown(key, rules.RULES[key].default)}"
            else:
                stored = rules.set_value(ctx.session, key, value.strip())
                done = f"「{rules.RULES[key].label}」已设为 {rules.shown(key, stored)}"
        except DomainError as err:
            ctx.session.rollback()
            return _settings_page(request, ctx, status_code=err.http_status, error=err.message,
                                  typed={"key": key, "value": value})
        return _back("/admin/settings", done)


# ---------------------------------------------------------------- holidays


def parse_days(text: str, what: str) -> list[tuple[date, str]]:
    """One entry a line, as ``hotline holidays set`` takes them: ``2027-01-01..2027-01-03:元旦``
    or ``2027-02-07:春节`` (the name optional); commas also separate entries."""
    out: list[tuple[date, str]] = []
    for line in text.replace("，", ",").replace("\r", "").replace(",", "\n").split("\n"):
        spec = line.strip()
        if not spec:
            continue
        span, _, name = spec.replace("：", ":").partition(":")
        first, _, last = span.strip().partition("..")
        try:
            start, end = date.fromisoformat(first.strip()), date.fromisoformat((last or first).strip())
        except ValueError:
            raise Invalid(f"{what}「{spec}」格式不对：应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD，可加「:名称」") from None
        if len(name.strip()) > 40:
            raise Invalid(f"{what}「{spec}」的名称过长（最多 40 字）")
        out.extend((d, name.strip()) for d in holiday_table.expand(start, end))
    return out


def _spans(days: list[Holiday]) -> str:
    """Entries as the form takes them: consecutive days of one name as one line (2026-10-01..2026-10-08:国庆节)."""
    lines: list[str] = []
    start = prev = None
    name = None
    for h in [*days, None]:
        if h is not None and prev is not None and h.day == prev + timedelta(days=1) and (h.name or "") == name:
            prev = h.day
            continue
        if start is not None:
            span = start.isoformat() + (f"..{prev.isoformat()}" if prev != start else "")
            lines.append(span + (f":{name}" if name else ""))
        if h is not None:
            start = prev = h.day
            name = h.name or ""
    return "\n".join(lines)


def _holidays_page(request: Request, ctx: PageContext, *, status_code: int = 200, error: str | None = None,
                   typed: dict[str, Any] | None = None, notice: str | None = None, year: int | None = None) -> Response:
    entered = holiday_table.years(ctx.session)
    shown = year or clock.local(clock.now()).year
    days = []
    if 2004 <= shown <= 2100:
        days = list(ctx.session.scalars(select(Holiday).where(Holiday.day >= date(shown, 1, 1),
                                                              Holiday.day <= date(shown, 12, 31))
                                        .order_by(Holiday.day)))
    if typed is None and days:  # the year's entries in the form, to be changed and saved again
        typed = {"year": str(shown), "days_off": _spans([d for d in days if not d.is_workday]),
                 "workdays": _spans([d for d in days if d.is_workday])}
    return _page(request, "admin/holidays.html", "节假日", status_code=status_code, entered=entered,
                 shown=shown, days=days, error=error, typed=typed or {}, notice=notice,
                 to_enter=holiday_table.year_to_enter(ctx.session, clock.local(clock.now()).date()))


@router.get("/admin/holidays")
def holidays_page(request: Request, notice: str = "", year: int | None = None) -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        return _holidays_page(request, ctx, notice=notice or None, year=year)


@router.post("/admin/holidays")
def set_holidays(request: Request, csrf: str = Form(""), year: str = Form(""), days_off: str = Form(""),
                 workdays: str = Form(""), confirm_unusual: str = Form("")) -> Response:
    typed = {"year": year, "days_off": days_off, "workdays": workdays}
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            if not year.strip().isdigit():
                raise Invalid("请填写年份（如 2027）")
            number = int(year.strip())
            off = parse_days(days_off, "放假日期")
            if not off:
                raise Invalid("请至少填写一个放假日期")
            before = reference.snapshot(ctx.session).calendar
            count = holiday_table.set_year(ctx.session, number, days_off=off,
                                           workdays=parse_days(workdays, "调休上班日期"),
                                           confirmed=confirm_unusual == "on")
            moved = follow_holiday_change(ctx.session, before, actor=ctx.user)
        except DomainError as err:
            ctx.session.rollback()
            typed["unusual"] = err.code == "holidays_unusual"  # offer 确认特殊安排
            return _holidays_page(request, ctx, status_code=err.http_status, error=err.message, typed=typed,
                                  year=int(year) if year.strip().isdigit() and len(year.strip()) == 4 else None)
        return RedirectResponse(f"/admin/holidays?year={number}&notice="
                                + quote(f"{number} 年节假日已录入：{count} 个调整日；{moved_text(moved)}"),
                                status_code=303)
