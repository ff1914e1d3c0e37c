"""The agent's intake page: the caller's earlier tickets, region search, register (and dispatch
in the same transaction when the dispatch catalogue names a lead unit, or answer it, hand it off to
110/119/120/122 or refuse it 不予受理 at once, each through its lifecycle transition)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hotline.accounts.models import Role
from hotline.assist import duplicates
from hotline.classification.place_field import NOT_FOUND, resolve_place
from hotline.directory import lookup, reference
from hotline.incidents import public_notice
from hotline.incidents import service as incidents
from hotline.incidents.models import STATE_LABELS
from hotline.kit import clock
from hotline.kit.errors import DomainError, Invalid, PermissionDenied
from hotline.routing.catalogue import suggest_units
from hotline.tickets import lifecycle, queries, validation, views
from hotline.tickets.views import KIND_LABELS, URGENCY_LABELS
from hotline.web.render import page
from hotline.web.routes import knowledge
from hotline.web.routes.suggest import INTAKE_ROLES, record_suggestion
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
FIELDS = ("caller_phone", "caller_name", "kind", "category_code", "region", "address", "urgency", "content",
          "merge_into", "answer", "handoff_to", "handoff_note", "refusal_reason")
# What the form's submit buttons ask for besides registering (``action``); anything else registers.
ACTIONS = ("answer", "hand_off", "refuse")
UNSEEN_DUPLICATES = "附近有疑似同一问题的未办结工单，请确认是否并单后再登记"
UNSEEN_HOW = ("本次尚未登记，填写的内容均已保留。如为同一问题，请在「附近同类未办结工单」中选择并入；"
              "不是同一问题，请选择「不并单，单独登记」。然后再按「登记」。")


class _Refused(Exception):
    """The form is refused: each problem by its field (``""`` for the form as a whole)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class _Unseen(Exception):
    """A plain 登记 from a form that never showed the 附近同类未办结工单 panel (no ``nearby_seen``
    marker: posted before the panel first answered, without JavaScript, or from an older page),
    while the panel offers open duplicates. Nothing typed is wrong: the agent has not seen them yet."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__(items)
        self.items = items


def _allowed(ctx: PageContext) -> None:
    if ctx.user.role not in INTAKE_ROLES:
        raise PermissionDenied("您的角色无权受理工单")


COUNTY_LEVEL = 3


def _county(snap: reference.Snapshot, text: str) -> str | None:
    """The county (区、县、县级市) named ``text`` ('夏县', '盐湖区', or its code), when one alone is."""
    found = [code for code, (name, level, _parent) in snap.regions.items()
             if level == COUNTY_LEVEL and text in (code, name)]
    return found[0] if len(found) == 1 else None


def _region_code(snap: reference.Snapshot, typed: str, *, county_ok: bool = False) -> str:
    """诉求发生地 as picked from the dropdown (a code or a label, as ever), else typed the way the
    portal reads it ('裴介镇朱吕村', '朱吕村', '裴介镇 朱吕村'): one township or village. A name
    several places share, or a county's name, is refused with the places to choose from; nothing
    found, in the dropdown's words. ``county_ok`` (a call answered at once or not accepted: a
    consultation has no place of its own): the caller's county is enough, and one is asked for."""
    text = typed.strip()[:60]
    if county_ok:
        if not text:
            raise Invalid("请填写诉求发生地：直接答复或不予受理时，填来电人所在县（区）即可，如“夏县”",
                          code="region_required", details={"field": "region"})
        county = _county(snap, text)
        if county is not None:
            return county
    try:
        return lookup.resolve_region(snap, typed)
    except Invalid as not_picked:
        place = resolve_place(snap, text) if text else None
        if place is not None and place.code is not None:
            return place.code
        if place is None or place.problem == NOT_FOUND.format(text):
            raise
        raise Invalid(f"{place.problem}（可选：{place.choices}）" if place.options else str(place.problem),
                      code="unclear_region", details={"field": "region"}) from not_picked


def _form_page(request: Request, ctx_snap: reference.Snapshot, *, status_code: int = 200,
               values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               done: dict[str, Any] | None = None, nearby: dict[str, Any] | None = None,
               kb: dict[str, Any] | None = None, duplicates: list[dict[str, Any]] | None = None) -> Response:
    """The form; ``nearby`` and ``kb`` (when it comes back refused) fill the side panels as they
    were, the merge target still chosen."""
    values = dict(values or {})
    values["category_code"] = lookup.category_choice(ctx_snap, values.get("category_code") or "")
    return page(request, "intake/form.html", status_code=status_code, title="来电受理",
                v={f: values.get(f, "") for f in FIELDS} | {"anonymous": values.get("anonymous"),
                                                            "confidential": values.get("confidential"),
                                                            "direct": values.get("direct", "on")},
                errors=errors or {}, services=validation.EMERGENCY_SERVICES, done=done, kinds=KIND_LABELS, urgencies=URGENCY_LABELS, nearby=nearby, kb=kb,
                duplicates=duplicates or [], unseen_how=UNSEEN_HOW,
                categories=lookup.leaf_categories(ctx_snap), regions=lookup.search_regions(ctx_snap))


def _refused_page(request: Request, ctx: PageContext, values: dict[str, Any], errors: dict[str, str], *,
                  status_code: int = 422, unseen: bool = False) -> Response:
    """The form again with the reason, everything typed kept: also the 并单 choice and the panels
    beside it, so fixing a phone number and pressing Ctrl+Enter still merges as chosen. ``unseen``:
    the open duplicates are also listed with the reason, and what to do, for a form that never drew
    the panel (the list is there even where the panel sits far below, on a narrow screen)."""
    snap = reference.snapshot(ctx.session)
    nearby = _nearby(ctx, snap, region=values["region"], category_code=values["category_code"],
                     content=values["content"], merge_into=values["merge_into"])
    kb = knowledge.suggested(ctx.session, snap, category_code=values["category_code"], content=values["content"])
    return _form_page(request, snap, status_code=status_code, values=values, errors=errors, nearby=nearby, kb=kb,
                      duplicates=nearby["items"] if unseen else None)


def _checked(snap: reference.Snapshot, values: dict[str, Any], action: str) -> dict[str, Any]:
    """Every field checked before a number is taken, as the portal does: the registration's
    arguments, or ``_Refused`` naming every missing or invalid field at once."""
    errors: dict[str, str] = {}

    def check(field: str, run: Any) -> Any:
        try:
            return run()
        except Invalid as refused:
            errors.setdefault(field, refused.message)
            return None

    phone = check("caller_phone", lambda: validation.normalize_phone(values["caller_phone"]))
    name = check("caller_name", lambda: validation.require_text(values["caller_name"], "caller_name", "来电人姓名",
                                                                 max_chars=60, required=False))
    if not errors:
        check("caller_phone", lambda: validation.check_caller(name, phone, anonymous=values["anonymous"]))
    check("kind", lambda: validation.check_kind(values["kind"]))
    check("urgency", lambda: validation.check_urgency(values["urgency"]))

    def category() -> str:
        code = lookup.resolve_category(snap, values["category_code"])
        validation.check_category(snap, code)
        return code

    category_code = check("category_code", category)
    region_code = check("region", lambda: _region_code(snap, values["region"], county_ok=action in ("answer", "refuse")))
    address = check("address", lambda: validation.require_text(values["address"], "address", "详细地址",
                                                                max_chars=200, required=False))
    content = check("content", lambda: validation.require_text(values["content"], "content", "诉求内容",
                                                                max_chars=validation.MAX_CONTENT_CHARS))
    if action == "answer":
        check("answer", lambda: validation.require_text(values["answer"], "answer", "直接答复内容",
                                                        max_chars=validation.MAX_CONTENT_CHARS))
    if action == "hand_off":
        if values["handoff_to"] not in validation.EMERGENCY_SERVICES:
            errors["handoff_to"] = "请选择转往的应急部门（110、119、120 或 122）"
        check("handoff_note", lambda: validation.require_text(values["handoff_note"], "handoff_note", "转办说明",
                                                              max_chars=lifecycle.MAX_REASON_CHARS, required=False))
    elif values["handoff_to"]:  # chosen, but another button pressed: not registered as an ordinary call
        errors["handoff_to"] = f"已选择转 {values['handoff_to']}，请按「登记并转应急部门」；不转办请将“转往”改回“请选择”"
    if action == "refuse":
        check("refusal_reason", lambda: validation.require_text(values["refusal_reason"], "refusal_reason",
                                                                "不予受理理由", max_chars=lifecycle.MAX_REASON_CHARS))
    elif values["refusal_reason"].strip():
        errors["refusal_reason"] = "已填写不予受理理由，请按「登记为不予受理」；要受理请清空该理由"
    if errors:
        raise _Refused({f: errors[f] for f in FIELDS if f in errors})
    return {"kind": values["kind"], "category_code": category_code, "urgency": values["urgency"],
            "region_code": region_code, "content": content, "caller_name": name, "caller_phone": phone,
            "caller_anonymous": values["anonymous"], "caller_confidential": values["confidential"],
            "address": address}


@router.get("/agent/intake")
def intake_form(request: Request) -> Response:
    with page_work(request, write=False) as ctx:
        try:
            _allowed(ctx)
        except PermissionDenied as refused:
            return page(request, "error.html", status_code=403, title="无权访问", message=refused.message)
        return _form_page(request, reference.snapshot(ctx.session), values={"kind": "help", "urgency": "normal"})


@router.post("/agent/intake")
async def intake_register(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("csrf") or "")
    values = {k: str(form.get(k) or "") for k in FIELDS}
    values["anonymous"] = bool(form.get("anonymous"))
    values["confidential"] = bool(form.get("confidential"))
    values["direct"] = "on" if form.get("direct") else ""
    # 直接答复并办结 (e.g. from the knowledge base), 转应急部门 or 不予受理; else register (and dispatch).
    action = str(form.get("action") or "")
    action = action if action in ACTIONS else ""
    try:
        with page_work(request, write=True, posted_csrf=token) as ctx:
            _allowed(ctx)
            snap = reference.snapshot(ctx.session)
            registration = _checked(snap, values, action)
            if not action and not values["merge_into"]:
                marker = form.get("nearby_seen")
                _check_duplicates_seen(ctx, snap, values, seen=None if marker is None else str(marker))
            ticket = lifecycle.register(ctx.session, actor=ctx.user, channel="phone", **registration,
                                        settled_at_once=action in ("answer", "refuse"))
            record_suggestion(ctx.session, ticket, ctx.user, str(form.get("suggested") or ""))
            done: dict[str, Any] = {"number": ticket.number, "query_code": ticket.query_code, "unit": None,
                                    "note": None, "merged_into": None, "answered": False,
                                    "handed_off": None, "refused": False}
            if action == "answer":
                lifecycle.answer_directly(ctx.session, ticket, actor=ctx.user, answer=values["answer"])
                done["answered"] = True
            elif action == "hand_off":
                lifecycle.hand_off(ctx.session, ticket, actor=ctx.user, to=values["handoff_to"],
                                   note=values["handoff_note"] or None)
                done["handed_off"] = f"{values['handoff_to']}（{validation.EMERGENCY_SERVICES[values['handoff_to']]}）"
            elif action == "refuse":
                lifecycle.refuse(ctx.session, ticket, actor=ctx.user, reason=values["refusal_reason"])
                done["refused"] = True
            elif values["merge_into"]:
                master = queries.get_ticket(ctx.session, ctx.scope, values["merge_into"])
                lifecycle.merge(ctx.session, ticket, actor=ctx.user, master=master,
                                note=f"{ctx.user.display_name}受理时确认与 {master.number} 为同一问题")
                done["merged_into"] = master.number
            elif values["direct"]:
                s = suggest_units(ctx.session, category_code=ticket.category_code, region_code=ticket.region_code)
                if s.source == "catalogue" and s.lead_unit_id is not None:
                    # Agents may not choose a unit (policy: dispatch is the dispatchers'); here the
                    # catalogue chooses, so the platform dispatches (actor None) and the note says who
                    # registered it. Dispatchers and admins dispatch in their own name.
                    by = ctx.user if ctx.user.role in (Role.dispatcher, Role.admin) else None
                    lifecycle.dispatch(ctx.session, ticket, actor=by, lead_unit_id=s.lead_unit_id,
                                       co_unit_ids=s.co_unit_ids,
                                       note=f"{ctx.user.display_name}受理时按派单目录直接派单")
                    done["unit"] = snap.units[s.lead_unit_id][1]
                else:
                    done["note"] = "派单目录没有明确的承办单位，工单已登记，待派单员派单"
            ctx.session.flush()
    except PermissionDenied as refused:
        with page_work(request, write=False, posted_csrf=token):  # a live user for the page
            return page(request, "error.html", status_code=403, title="无权访问", message=refused.message)
    except _Refused as refused:
        with page_work(request, write=False, posted_csrf=token) as ctx:
            return _refused_page(request, ctx, values, refused.errors)
    except _Unseen:  # a question to answer, not an error: the form again, 200, the duplicates listed
        with page_work(request, write=False, posted_csrf=token) as ctx:
            return _refused_page(request, ctx, values, {"": UNSEEN_DUPLICATES}, status_code=200, unseen=True)
    except DomainError as refused:  # what the checks above do not cover (a merge target gone, ...)
        field = str((refused.details or {}).get("field") or "")
        with page_work(request, write=False, posted_csrf=token) as ctx:
            return _refused_page(request, ctx, values, {field if field in FIELDS else "": refused.message})
    with page_work(request, write=False, posted_csrf=token) as ctx:
        return _form_page(request, reference.snapshot(ctx.session), done=done,
                          values={"kind": "help", "urgency": "normal"})


def _check_duplicates_seen(ctx: PageContext, snap: reference.Snapshot, values: dict[str, Any], *,
                           seen: str | None) -> None:
    """Plain 登记 with no 并单 chosen: held back while the 附近同类未办结工单 panel would offer a
    ticket it had not shown when the form was sent (``seen``: the numbers it showed, its marker).
    Ctrl+Enter pressed as the place is typed, before the panel has answered, so comes back with the
    panel drawn; pressed again, the call is registered on its own. A form without the marker
    (``None``: the panel never answered, or no JavaScript) is asked, not refused (``_Unseen``)."""
    offered = _nearby(ctx, snap, region=values["region"], category_code=values["category_code"],
                      content=values["content"], merge_into="")
    if not offered["items"]:
        return
    if seen is None:
        raise _Unseen(offered["items"])
    if {i["number"] for i in offered["items"]} - set(seen.split()):
        raise _Refused({"": UNSEEN_DUPLICATES})


@router.get("/agent/caller-history")
def caller_history(request: Request, phone: str = "", caller_phone: str = "") -> Response:
    """The caller's earlier tickets; the form's own input is named ``caller_phone``."""
    phone = phone or caller_phone
    with page_work(request, write=False) as ctx:
        items: list[dict[str, Any]] = []
        note = None
        total = 0
        try:
            _allowed(ctx)
            normalized = validation.normalize_phone(phone)
        except DomainError as refused:
            normalized, note = None, refused.message
        if normalized:
            rows, total = queries.list_tickets(ctx.session, ctx.scope, queries.TicketFilter(caller_phone=normalized),
                                               per_page=10)
            snap, now = reference.snapshot(ctx.session), clock.now()
            items = [views.ticket_summary(snap, ctx.scope, t, now) for t in rows]
        return page(request, "intake/history.html", items=items, total=total, note=note, phone=phone.strip())


@router.get("/agent/nearby")
def nearby_tickets(request: Request, region: str = "", category_code: str = "", content: str = "",
                   merge_into: str = "") -> Response:
    """Open tickets on the same problem near the place typed so far, offered for merging."""
    with page_work(request, write=False) as ctx:
        try:
            _allowed(ctx)
        except DomainError:
            return page(request, "intake/nearby.html", **_NOTHING_NEARBY)
        return page(request, "intake/nearby.html", **_nearby(ctx, reference.snapshot(ctx.session), region=region,
                                                             category_code=category_code, content=content,
                                                             merge_into=merge_into))


_NOTHING_NEARBY: dict[str, Any] = {"items": [], "searched": False, "merge_into": "", "running": []}


def _nearby(ctx: PageContext, snap: reference.Snapshot, *, region: str, category_code: str, content: str,
            merge_into: str) -> dict[str, Any]:
    """What the 附近同类未办结工单 panel shows (``intake/nearby.html``): the tickets offered for
    merging, with ``merge_into`` still chosen while it is among them, and the incidents running there."""
    try:
        code = _region_code(snap, region) if region.strip() else None
    except DomainError:
        code = None
    if code is None:
        return _NOTHING_NEARBY
    now = clock.now()
    category = lookup.category_code_of(snap, category_code) or None
    items = [views.ticket_summary(snap, ctx.scope, hit.ticket, now) | {"score": hit.score, "reasons": hit.reasons}
             for hit in duplicates.find(ctx.session, ctx.scope, region_code=code, category_code=category,
                                        text=content[:2000], now=now)]
    running = [{"title": i.title, "state": i.state.value, "state_label": STATE_LABELS[i.state],
                "count": i.ticket_count, "last": i.last_ticket_at, "note": i.note,
                "public": getattr(public_notice.current(ctx.session, i, now=now), "text", None),
                "category": snap.categories[i.category_code].name if i.category_code in snap.categories
                else i.category_code}
               for i in incidents.running_at(ctx.session, code, now=now)]
    offered = merge_into if any(i["number"] == merge_into for i in items) else ""
    return {"items": items, "searched": True, "merge_into": offered, "running": running}


@router.get("/agent/regions")
def region_search(request: Request, q: str = "", region: str = "") -> Response:
    """Datalist options; the form's own input is named ``region``, so either parameter is read."""
    with page_work(request, write=False) as ctx:
        hits = lookup.search_regions(reference.snapshot(ctx.session), (q or region).strip()[:40])
        return page(request, "intake/regions.html", regions=hits)
