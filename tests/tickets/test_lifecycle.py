"""The ticket lifecycle as the people using it see it: what each action does, what is refused and
why, who may act, and what is recorded on the timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from hotline.accounts.scope import scope_for
from hotline.kit import clock
from hotline.kit.errors import Invalid, NotFound, PermissionDenied, TransitionNotAllowed
from hotline.tickets import lifecycle as L
from hotline.tickets import queries
from hotline.tickets.models import (
    RequestState,
    RequestType,
    Satisfaction,
    Ticket,
    TicketEvent,
    TicketRequest,
    UnitRole,
    UnitTaskStatus,
)
from hotline.tickets.states import ACTION_LABELS, STATUS_LABELS, TRANSITIONS, Status, allowed_actions
from tests.builders import PATHS, Personas, make_ticket, register, step

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 14, 9, 0, tzinfo=SH)  # a Monday morning, far from holidays


@pytest.fixture(autouse=True)
def _monday_morning():
    clock.freeze(T0)


def events(session, ticket: Ticket) -> list[TicketEvent]:
    session.flush()
    return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)))


def requests(session, ticket: Ticket, kind: RequestType) -> list[TicketRequest]:
    session.flush()
    return list(session.scalars(select(TicketRequest).where(TicketRequest.ticket_id == ticket.id,
                                                            TicketRequest.type == kind).order_by(TicketRequest.id)))


def build(session, p: Personas, status: Status, **fields) -> Ticket:
    if status == Status.merged:
        ticket = make_ticket(session, p, Status.registered, **fields)
        L.merge(session, ticket, actor=p.agent, master=make_ticket(session, p, Status.registered))
        session.flush()
        return ticket
    return make_ticket(session, p, status, **fields)


# ---------------------------------------------------------------- every allowed transition

REASONS = {
    "hand_off": "有老人晕倒，需要急救",
    "refuse": "涉及诉讼程序，不属于热线受理范围",
    "record_contact": "已电话联系来电人",
    "request_return": "该村供水不归本站管理",
    "redispatch": "退单理由成立，改派住建局",
    "reject_return": "该村在本站供水范围内",
    "suspend": "来电人外出，约定下周上门",
    "send_back_reply": "反馈未说明恢复供水时间",
    "record_callback": "来电人说已经来水了",
    "close": "已向来电人解释政策",
    "reopen": "来电人说水还是时有时无",
    "merge": "同一漏水点的重复来电",
}

Do = Callable[[object, Personas, Ticket], TicketEvent]
DO: dict[str, tuple[str, Do]] = {
    "answer_directly": ("agent", lambda s, p, t: L.answer_directly(s, t, actor=p.agent, answer="水费可在营业厅缴纳")),
    "hand_off": ("agent", lambda s, p, t: L.hand_off(s, t, actor=p.agent, to="120", note=REASONS["hand_off"])),
    "refuse": ("agent", lambda s, p, t: L.refuse(s, t, actor=p.agent, reason=REASONS["refuse"])),
    "dispatch": ("dispatcher", lambda s, p, t: L.dispatch(s, t, actor=p.dispatcher, lead_unit_id=p.unit_a,
                                                          co_unit_ids=[p.unit_a_co])),
    "accept": ("handler_a", lambda s, p, t: L.accept(s, t, actor=p.handler_a)),
    "record_contact": ("handler_a", lambda s, p, t: L.record_contact(s, t, actor=p.handler_a,
                                                                      note=REASONS["record_contact"])),
    "request_return": ("handler_a", lambda s, p, t: L.request_return(s, t, actor=p.handler_a,
                                                                      reason=REASONS["request_return"])),
    "redispatch": ("dispatcher", lambda s, p, t: L.redispatch(s, t, actor=p.dispatcher, lead_unit_id=p.unit_b,
                                                              note=REASONS["redispatch"])),
    "reject_return": ("dispatcher", lambda s, p, t: L.reject_return(s, t, actor=p.dispatcher,
                                                                    reason=REASONS["reject_return"])),
    "suspend": ("handler_a", lambda s, p, t: L.suspend(s, t, actor=p.handler_a, reason=REASONS["suspend"])),
    "resume": ("handler_a", lambda s, p, t: L.resume(s, t, actor=p.handler_a)),
    "reply": ("handler_a", lambda s, p, t: L.reply(s, t, actor=p.handler_a, text="已更换闸阀，恢复供水")),
    "accept_reply": ("dispatcher", lambda s, p, t: L.accept_reply(s, t, actor=p.dispatcher)),
    "send_back_reply": ("dispatcher", lambda s, p, t: L.send_back_reply(s, t, actor=p.dispatcher,
                                                                        reason=REASONS["send_back_reply"])),
    "record_callback": ("agent", lambda s, p, t: L.record_callback(
        s, t, actor=p.agent, reached=True, resolved=True, satisfaction="satisfied",
        comment=REASONS["record_callback"])),
    "close": ("agent", lambda s, p, t: L.close(s, t, actor=p.agent, reason=REASONS["close"])),
    "reopen": ("agent", lambda s, p, t: L.reopen(s, t, actor=p.agent, reason=REASONS["reopen"])),
    "merge": ("agent", lambda s, p, t: L.merge(s, t, actor=p.agent, master=make_ticket(s, p, Status.registered),
                                              note=REASONS["merge"])),
    "archive": ("dispatcher", lambda s, p, t: L.archive(s, t, actor=p.dispatcher)),
}

# The status a saved-status action goes back to, given how the builder reached its source.
RETURNS_TO = {"resume": Status.in_progress, "reject_return": Status.accepted}


def _check_effects(action: str, t: Ticket, p: Personas, now: datetime, source: Status) -> None:
    """What a person sees changed on the ticket besides its status."""
    match action:
        case "answer_directly":
            assert t.closed_at == now and t.direct_answer and t.close_reason == "answered_directly"
        case "hand_off":
            assert t.closed_at == now and t.handoff_to == "120"
        case "refuse":
            assert t.closed_at == now and t.refusal_reason == REASONS["refuse"]
        case "dispatch":
            assert t.dispatched_at == now and t.lead_unit_id == p.unit_a
            assert all(d > now for d in (t.accept_due_at, t.contact_due_at, t.reply_due_at))
        case "accept":
            assert t.accepted_at == now and t.lead_task().status == UnitTaskStatus.accepted
        case "record_contact":
            assert t.contacted_at is not None
            assert (t.contacted_at == now) == (source == Status.accepted)  # the first contact counts
        case "request_return":
            assert t.status_before == source
        case "redispatch":
            # The new unit's clock starts now; the ticket's first dispatch stays on record.
            assert t.lead_task().dispatched_at == now and t.dispatched_at < now and t.lead_unit_id == p.unit_b
        case "suspend":
            assert t.suspended_at == now and t.status_before == source
        case "resume":
            assert t.suspended_at is None and t.suspended_seconds == 600
        case "reply":
            assert t.replied_at == now and t.reply_text
        case "record_callback":
            assert t.callback_at == now and t.satisfaction == Satisfaction.satisfied and t.resolved is True
        case "close":
            assert t.closed_at == now
        case "reopen":
            assert t.lead_task().dispatched_at == now and t.dispatched_at < now
            assert t.reopen_count == 1 and t.satisfaction is None
        case "merge":
            assert t.closed_at == now and t.master_id is not None
        case "archive":
            assert t.archived_at == now
        case "accept_reply" | "send_back_reply" | "reject_return":
            assert t.updated_at == now


CASES = [(action, source) for action, (sources, _) in TRANSITIONS.items() for source in sources]


@pytest.mark.parametrize(("action", "source"), CASES, ids=[f"{a}-from-{s.value}" for a, s in CASES])
def test_every_allowed_transition(session, people, action, source):
    ticket = build(session, people, source)
    if source == Status.callback_pending and action == "close":
        L.record_callback(session, ticket, actor=people.agent, reached=False)
    clock.advance(timedelta(minutes=10))
    now = clock.now()
    actor_attr, do = DO[action]
    actor = getattr(people, actor_attr)

    returned = do(session, people, ticket)

    expected = TRANSITIONS[action][1] or RETURNS_TO[action]
    assert ticket.status == expected
    _check_effects(action, ticket, people, now, source)
    last = [e for e in events(session, ticket) if e.to_status is not None][-1]
    assert last is returned
    assert (last.action, last.from_status, last.to_status) == (action, source.value, expected.value)
    assert (last.actor_id, last.actor_name, last.at) == (actor.id, actor.display_name, now)
    if action in REASONS:
        assert last.reason == REASONS[action]


def test_every_status_in_the_graph_is_covered_by_the_builders():
    sources = {s for sources, _ in TRANSITIONS.values() for s in sources}
    assert sources <= set(PATHS) | {Status.merged}


def test_register_records_who_took_the_call_and_starts_the_dispatch_clock(session, people):
    ticket = register(session, people)
    assert ticket.status == Status.registered
    assert ticket.received_at == T0 and ticket.registered_by_id == people.agent.id
    assert ticket.dispatch_due_at == T0 + timedelta(hours=2)  # urgent
    [event] = events(session, ticket)
    assert (event.action, event.from_status, event.to_status, event.actor_id) == (
        "register", None, "registered", people.agent.id)


# ---------------------------------------------------------------- refused transitions


def _try_callback(s, p, t):
    L.record_callback(s, t, actor=p.agent, reached=True, resolved=True, satisfaction="satisfied")


def _good_callback_then_reopen(s, p, t):
    L.record_callback(s, t, actor=p.agent, reached=True, resolved=True, satisfaction="satisfied")
    s.flush()
    L.reopen(s, t, actor=p.agent, reason="想再看看")


REFUSED = {
    "callback on a dispatched ticket": (Status.dispatched, "record_callback", _try_callback),
    "reply before contact": (Status.accepted, "reply",
                             lambda s, p, t: L.reply(s, t, actor=p.handler_a, text="已处理")),
    "close without callback": (Status.replied, "close", lambda s, p, t: L.close(s, t, actor=p.agent)),
    "close before any callback attempt": (Status.callback_pending, "close",
                                          lambda s, p, t: L.close(s, t, actor=p.agent, reason="打了没人接")),
    "reopen after a satisfied callback": (Status.callback_pending, "reopen", _good_callback_then_reopen),
    "archive of an open ticket": (Status.in_progress, "archive",
                                  lambda s, p, t: L.archive(s, t, actor=p.dispatcher)),
    "dispatch twice": (Status.dispatched, "dispatch",
                       lambda s, p, t: L.dispatch(s, t, actor=p.dispatcher, lead_unit_id=p.unit_b)),
    "accept twice": (Status.accepted, "accept", lambda s, p, t: L.accept(s, t, actor=p.handler_a)),
    "resume a running ticket": (Status.in_progress, "resume", lambda s, p, t: L.resume(s, t, actor=p.handler_a)),
    "reopen an archived ticket": (Status.archived, "reopen",
                                  lambda s, p, t: L.reopen(s, t, actor=p.agent, reason="又漏了")),
    "merge a replied ticket": (Status.replied, "merge", lambda s, p, t: L.merge(
        s, t, actor=p.agent, master=make_ticket(s, p, Status.registered))),
    "extension on a registered ticket": (Status.registered, "request_extension", lambda s, p, t: L.request_extension(
        s, t, actor=None, amount=2, reason="需要采购配件")),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_transition_names_the_status_and_what_is_allowed(session, people, case):
    start, action, attempt = REFUSED[case]
    ticket = build(session, people, start)
    session.commit()

    with pytest.raises(TransitionNotAllowed) as err:
        attempt(session, people, ticket)

    status = ticket.status  # the refusal may come after an allowed first step (the callback)
    message = err.value.message
    assert f"「{STATUS_LABELS[status]}」" in message
    assert f"不能{ACTION_LABELS[action]}" in message
    allowed = err.value.details["allowed"]
    assert action not in allowed
    assert set(allowed) <= set(allowed_actions(status))
    if allowed:  # the message names some of them (those the actor's role may take), or none
        named = message.split("当前可执行：")[1].split("、") if "当前可执行：" in message else []
        also = {"request_extension"} if status in L.EXTENSION_STATUSES else set()  # no status change
        assert set(named) <= {ACTION_LABELS[a] for a in set(allowed) | also}
    else:
        assert "工单已结束" in message


def test_a_handler_is_told_only_what_a_handler_may_do(session, people):
    waiting = build(session, people, Status.return_requested)  # the centre's move: 改派 or 驳回退单
    with pytest.raises(TransitionNotAllowed) as err:
        L.accept(session, waiting, actor=people.handler_a)
    message = err.value.message
    assert "「退单待审」" in message and "不能签收" in message
    assert "当前可执行" not in message and "改派" not in message and "驳回退单" not in message
    assert set(err.value.details["allowed"]) == {"redispatch", "reject_return"}  # the graph, for API clients
    dispatched = build(session, people, Status.dispatched)
    with pytest.raises(TransitionNotAllowed) as err:
        L.record_contact(session, dispatched, actor=people.handler_a)
    assert err.value.message.endswith("当前可执行：签收、申请退单")  # not 并单, the centre's
    accepted = build(session, people, Status.accepted)
    with pytest.raises(TransitionNotAllowed) as err:  # 反馈 before contacting the caller: 延期 is open too
        L.reply(session, accepted, actor=people.handler_a, text="已处理")
    assert err.value.message.endswith("当前可执行：联系来电人、申请退单、挂起、申请延期")
    with pytest.raises(TransitionNotAllowed) as err:  # the centre is still told the whole graph's moves
        L.reply(session, waiting, actor=people.admin, text="已处理")
    assert err.value.message.endswith("当前可执行：改派、驳回退单")


def test_a_refused_action_changes_nothing(session, people):
    ticket = build(session, people, Status.accepted)
    session.commit()
    before = (ticket.status, ticket.version, len(events(session, ticket)))
    with pytest.raises(TransitionNotAllowed):
        L.reply(session, ticket, actor=people.handler_a, text="已处理")
    session.rollback()
    session.refresh(ticket)
    assert (ticket.status, ticket.version, len(events(session, ticket))) == before


def test_after_a_satisfied_callback_the_message_points_to_closing(session, people):
    ticket = build(session, people, Status.callback_pending)
    L.record_callback(session, ticket, actor=people.agent, reached=True, resolved=True, satisfaction="satisfied")
    with pytest.raises(TransitionNotAllowed) as err:
        L.reopen(session, ticket, actor=people.agent)
    assert "已解决且满意" in err.value.message
    assert err.value.details["allowed"] == ["close"]


# ---------------------------------------------------------------- who may act


def test_an_agent_cannot_dispatch(session, people):
    ticket = build(session, people, Status.registered)
    with pytest.raises(PermissionDenied):
        L.dispatch(session, ticket, actor=people.agent, lead_unit_id=people.unit_a)
    assert ticket.status == Status.registered


@pytest.mark.parametrize("review", [
    lambda s, p, t: L.accept_reply(s, t, actor=p.handler_a),
    lambda s, p, t: L.send_back_reply(s, t, actor=p.handler_a, reason="自己退回"),
], ids=["accept_reply", "send_back_reply"])
def test_a_handler_cannot_review_its_own_reply(session, people, review):
    ticket = build(session, people, Status.replied)
    with pytest.raises(PermissionDenied):
        review(session, people, ticket)
    assert ticket.status == Status.replied


def test_a_supervisor_does_not_handle_tickets(session, people):
    ticket = build(session, people, Status.registered)
    with pytest.raises(PermissionDenied):
        L.dispatch(session, ticket, actor=people.supervisor, lead_unit_id=people.unit_a)


def test_nobody_but_the_centre_registers(session, people):
    with pytest.raises(PermissionDenied):
        register(session, people, actor=people.handler_a)


@pytest.mark.parametrize(("status", "action"), [
    (Status.dispatched, lambda s, p, t: L.accept(s, t, actor=p.handler_b)),
    (Status.accepted, lambda s, p, t: L.record_contact(s, t, actor=p.handler_b)),
    (Status.in_progress, lambda s, p, t: L.reply(s, t, actor=p.handler_b, text="已处理")),
    (Status.accepted, lambda s, p, t: L.request_return(s, t, actor=p.handler_b, reason="不归我们")),
    (Status.in_progress, lambda s, p, t: L.suspend(s, t, actor=p.handler_b, reason="等待")),
], ids=["accept", "contact", "reply", "return", "suspend"])
def test_a_handler_of_another_unit_is_told_the_ticket_does_not_exist(session, people, status, action):
    ticket = build(session, people, status)
    with pytest.raises(NotFound):
        action(session, people, ticket)
    assert ticket.status == status


def test_a_co_handler_accepts_and_replies_its_own_part(session, people):
    ticket = build(session, people, Status.dispatched)
    co = next(u for u in ticket.units if u.role == UnitRole.co)
    assert co.unit_id == people.unit_a_co

    with pytest.raises(TransitionNotAllowed):  # no reply before accepting
        L.reply(session, ticket, actor=people.handler_a_co, text="已配合检修")
    event = L.accept(session, ticket, actor=people.handler_a_co)
    assert (event.action, event.unit_id, event.to_status) == ("accept_part", people.unit_a_co, None)
    assert co.status == UnitTaskStatus.accepted
    assert ticket.status == Status.dispatched  # the lead has not accepted yet
    with pytest.raises(TransitionNotAllowed):
        L.accept(session, ticket, actor=people.handler_a_co)

    for action in ("accept", "contact"):
        step(session, people, ticket, action)
    # Naming the lead unit does not let a co-handler reply for it.
    event = L.reply(session, ticket, actor=people.handler_a_co, text="已配合检修管网", unit_id=people.unit_a)
    assert (event.action, event.unit_id) == ("reply_part", people.unit_a_co)
    assert co.status == UnitTaskStatus.replied and co.reply_text == "已配合检修管网"
    assert ticket.status == Status.in_progress and ticket.reply_text is None

    lead_reply = L.reply(session, ticket, actor=people.handler_a, text="已更换闸阀")
    assert lead_reply.details["co_units_without_reply"] == []
    assert ticket.status == Status.replied


@pytest.mark.parametrize("status", [Status.closed, Status.archived])
def test_a_co_handler_cannot_sign_or_reply_once_the_ticket_is_finished(session, people, status):
    ticket = build(session, people, Status.dispatched)
    L.accept(session, ticket, actor=people.handler_a_co)
    for action in PATHS[status][1:]:
        step(session, people, ticket, action)
    count = len(events(session, ticket))
    with pytest.raises(TransitionNotAllowed) as err:
        L.reply(session, ticket, actor=people.handler_a_co, text="补充反馈")
    assert STATUS_LABELS[status] in err.value.message
    late = build(session, people, status)
    with pytest.raises(TransitionNotAllowed):
        L.accept(session, late, actor=people.handler_a_co)
    assert len(events(session, ticket)) == count


@pytest.mark.parametrize("action", ["record_contact", "suspend", "request_return", "request_extension"])
def test_a_co_handler_cannot_do_the_leads_work(session, people, action):
    ticket = build(session, people, Status.in_progress)
    kwargs = {"record_contact": {}, "suspend": {"reason": "等"}, "request_return": {"reason": "不归我们"},
              "request_extension": {"reason": "等配件", "amount": 2}}[action]
    with pytest.raises(PermissionDenied):
        getattr(L, action)(session, ticket, actor=people.handler_a_co, **kwargs)
    assert ticket.status == Status.in_progress


def test_the_lead_reply_lists_co_handlers_still_silent(session, people):
    ticket = build(session, people, Status.in_progress)
    event = L.reply(session, ticket, actor=people.handler_a, text="已更换闸阀")
    assert event.details["co_units_without_reply"] == [people.unit_a_co]


# ---------------------------------------------------------------- return, redispatch, reject


def test_return_then_redispatch_moves_the_ticket_to_another_unit(session, people):
    ticket = build(session, people, Status.accepted)
    old_reply_due = ticket.reply_due_at
    L.request_return(session, ticket, actor=people.handler_a, reason="不归本站管理")
    clock.advance(timedelta(hours=3))
    L.redispatch(session, ticket, actor=people.dispatcher, lead_unit_id=people.unit_b)
    session.flush()

    assert ticket.status == Status.dispatched and ticket.lead_unit_id == people.unit_b
    assert [(u.unit_id, u.role) for u in ticket.active_units()] == [(people.unit_b, UnitRole.lead)]
    withdrawn = {u.unit_id for u in ticket.units if u.status == UnitTaskStatus.withdrawn}
    assert withdrawn == {people.unit_a, people.unit_a_co}
    assert ticket.accepted_at is None and ticket.lead_task().dispatched_at == clock.now()
    assert ticket.dispatched_at < clock.now()  # the dispatch stage was met by the first dispatch
    assert ticket.accept_due_at == clock.now() + timedelta(hours=2)
    assert ticket.reply_due_at > old_reply_due
    [req] = requests(session, ticket, RequestType.return_)
    assert req.state == RequestState.approved and req.decided_by_id == people.dispatcher.id
    with pytest.raises(NotFound):  # the old unit has no part any more
        L.accept(session, ticket, actor=people.handler_a)
    L.accept(session, ticket, actor=people.handler_b)
    assert ticket.status == Status.accepted


def test_redispatch_to_the_same_unit_is_a_rejection_in_disguise(session, people):
    ticket = build(session, people, Status.return_requested)
    with pytest.raises(Invalid) as err:
        L.redispatch(session, ticket, actor=people.dispatcher, lead_unit_id=people.unit_a)
    assert err.value.code == "same_unit"


@pytest.mark.parametrize("before", [Status.dispatched, Status.accepted, Status.in_progress])
def test_a_rejected_return_goes_back_to_where_it_was(session, people, before):
    ticket = build(session, people, before)
    dues = (ticket.accept_due_at, ticket.contact_due_at, ticket.reply_due_at)
    L.request_return(session, ticket, actor=people.handler_a, reason="不归本站管理")
    event = L.reject_return(session, ticket, actor=people.dispatcher, reason="朱吕村在本站供水范围内")
    assert ticket.status == before
    assert (event.from_status, event.to_status) == ("return_requested", before.value)
    assert (ticket.accept_due_at, ticket.contact_due_at, ticket.reply_due_at) == dues
    assert ticket.lead_unit_id == people.unit_a
    [req] = requests(session, ticket, RequestType.return_)
    assert req.state == RequestState.rejected and req.decision_note == "朱吕村在本站供水范围内"


def test_a_return_needs_a_reason(session, people):
    ticket = build(session, people, Status.accepted)
    with pytest.raises(Invalid):
        L.request_return(session, ticket, actor=people.handler_a, reason="  ")


# ---------------------------------------------------------------- extensions


def _normal_in_progress(session, people) -> Ticket:
    # A normal water ticket dispatched Monday 09:00 is due in 3 working days: Thursday 09:00.
    ticket = build(session, people, Status.in_progress, urgency="normal")
    assert clock.local(ticket.reply_due_at) == datetime(2026, 9, 17, 9, 0, tzinfo=SH)
    return ticket


def test_an_approved_extension_moves_the_reply_deadline_by_working_days(session, people):
    ticket = _normal_in_progress(session, people)
    L.request_extension(session, ticket, actor=people.handler_a, amount=2, reason="需要采购闸阀配件")
    assert ticket.status == Status.in_progress
    event = L.approve_extension(session, ticket, actor=people.dispatcher)
    # Friday Sep 18, then the worked Sunday Sep 20 (调休 before 国庆).
    assert clock.local(ticket.reply_due_at) == datetime(2026, 9, 20, 9, 0, tzinfo=SH)
    assert ticket.extension_count == 1
    assert event.action == "approve_extension" and event.unit_id == people.unit_a
    [req] = requests(session, ticket, RequestType.extension)
    assert req.state == RequestState.approved


def test_the_centre_may_grant_less_than_asked(session, people):
    ticket = _normal_in_progress(session, people)
    L.request_extension(session, ticket, actor=people.handler_a, amount=5, reason="需要采购闸阀配件")
    L.approve_extension(session, ticket, actor=people.dispatcher, amount=1)
    assert clock.local(ticket.reply_due_at) == datetime(2026, 9, 18, 9, 0, tzinfo=SH)


def test_a_refused_extension_leaves_the_deadline(session, people):
    ticket = _normal_in_progress(session, people)
    due = ticket.reply_due_at
    L.request_extension(session, ticket, actor=people.handler_a, amount=2, reason="需要采购闸阀配件")
    L.refuse_extension(session, ticket, actor=people.dispatcher, reason="配件库存充足")
    assert ticket.reply_due_at == due and ticket.extension_count == 0
    [req] = requests(session, ticket, RequestType.extension)
    assert req.state == RequestState.rejected
    with pytest.raises(TransitionNotAllowed):  # nothing left to decide
        L.approve_extension(session, ticket, actor=people.dispatcher)


def test_one_pending_extension_at_a_time(session, people):
    ticket = _normal_in_progress(session, people)
    L.request_extension(session, ticket, actor=people.handler_a, amount=2, reason="需要采购闸阀配件")
    with pytest.raises(TransitionNotAllowed):
        L.request_extension(session, ticket, actor=people.handler_a, amount=1, reason="再加一天")


def test_extension_amounts_are_checked(session, people):
    ticket = _normal_in_progress(session, people)
    for amount, unit in [(0, "working_days"), (61, "days"), (3, "weeks")]:
        with pytest.raises(Invalid):
            L.request_extension(session, ticket, actor=people.handler_a, amount=amount, unit=unit, reason="等配件")


def test_an_extension_requested_before_a_redispatch_does_not_bind_the_new_unit(session, people):
    ticket = build(session, people, Status.accepted)
    L.request_extension(session, ticket, actor=people.handler_a, amount=5, reason="需要采购闸阀配件")
    L.request_return(session, ticket, actor=people.handler_a, reason="不归本站管理")
    L.redispatch(session, ticket, actor=people.dispatcher, lead_unit_id=people.unit_b)
    due = ticket.reply_due_at
    with pytest.raises(TransitionNotAllowed):  # the old unit's request went with its part
        L.approve_extension(session, ticket, actor=people.dispatcher)
    assert ticket.reply_due_at == due
    L.accept(session, ticket, actor=people.handler_b)
    # The new unit may ask for its own extension.
    L.request_extension(session, ticket, actor=people.handler_b, amount=1, reason="需要现场勘查")


# ---------------------------------------------------------------- suspend and resume


def test_resume_moves_the_reply_deadline_by_the_paused_time(session, people):
    ticket = build(session, people, Status.in_progress)  # urgent: 2 calendar days to reply
    due = ticket.reply_due_at
    L.suspend(session, ticket, actor=people.handler_a, reason="来电人外出，约定下午上门")
    clock.advance(timedelta(hours=5, minutes=30))
    event = L.resume(session, ticket, actor=people.handler_a)
    assert ticket.status == Status.in_progress
    assert ticket.reply_due_at == due + timedelta(hours=5, minutes=30)
    assert ticket.suspended_seconds == 5 * 3600 + 1800
    assert event.details["paused_seconds"] == 5 * 3600 + 1800


def test_resume_before_contact_also_moves_the_contact_deadline(session, people):
    ticket = build(session, people, Status.accepted)
    contact_due, accept_due = ticket.contact_due_at, ticket.accept_due_at
    L.suspend(session, ticket, actor=people.handler_a, reason="来电人电话关机")
    clock.advance(timedelta(hours=2))
    L.resume(session, ticket, actor=people.handler_a)
    assert ticket.status == Status.accepted
    assert ticket.contact_due_at == contact_due + timedelta(hours=2)
    assert ticket.accept_due_at == accept_due  # already met


def test_a_paused_working_day_deadline_does_not_land_on_a_weekend(session, people):
    ticket = _normal_in_progress(session, people)  # due Thursday 09:00
    L.suspend(session, ticket, actor=people.handler_a, reason="来电人外出")
    clock.advance(timedelta(days=2))  # Thursday + 2 days = Saturday -> the next working day
    L.resume(session, ticket, actor=people.handler_a)
    assert clock.local(ticket.reply_due_at) == datetime(2026, 9, 20, 9, 0, tzinfo=SH)  # the worked Sunday


# ---------------------------------------------------------------- merge


def test_merge_attaches_a_duplicate_to_its_master(session, people):
    master = build(session, people, Status.dispatched)
    dup = build(session, people, Status.dispatched)
    L.merge(session, dup, actor=people.agent, master=master, note="同一漏水点")
    assert dup.status == Status.merged and dup.master_id == master.id and dup.closed_at == clock.now()
    assert master.status == Status.dispatched
    note = events(session, master)[-1]
    assert note.action == "note" and dup.number in note.reason
    merged = events(session, dup)[-1]
    assert (merged.action, merged.details["master_number"]) == ("merge", master.number)
    assert queries.merged_into(session, master) == [dup]
    with pytest.raises(NotFound):  # the unit works on the master only
        queries.get_ticket(session, scope_for(people.handler_a), dup.id)


def test_a_master_merged_into_another_takes_its_duplicates_along(session, people):
    """Two callers' duplicates were merged into A; A turns out to repeat B: all three follow B, so
    nobody is left attached to a merged ticket."""
    a = build(session, people, Status.dispatched)
    first, second = build(session, people, Status.registered), build(session, people, Status.registered)
    L.merge(session, first, actor=people.agent, master=a)
    L.merge(session, second, actor=people.agent, master=a)
    b = build(session, people, Status.dispatched)
    L.merge(session, a, actor=people.dispatcher, master=b)
    session.flush()
    assert (first.master_id, second.master_id, a.master_id) == (b.id, b.id, b.id)
    assert sorted(t.id for t in queries.merged_into(session, b)) == sorted([a.id, first.id, second.id])
    assert queries.merged_into(session, a) == []
    assert f"原主工单 {a.number} 并入 {b.number}" in events(session, first)[-1].reason


def test_a_ticket_cannot_be_merged_into_itself(session, people):
    ticket = build(session, people, Status.registered)
    with pytest.raises(Invalid):
        L.merge(session, ticket, actor=people.agent, master=ticket)
    assert ticket.status == Status.registered


@pytest.mark.parametrize("master_status", [Status.closed, Status.archived, Status.refused])
def test_a_ticket_cannot_be_merged_into_a_finished_one(session, people, master_status):
    master = build(session, people, master_status)
    ticket = build(session, people, Status.registered)
    with pytest.raises(Invalid) as err:
        L.merge(session, ticket, actor=people.agent, master=master)
    assert STATUS_LABELS[master_status] in err.value.message
    assert ticket.status == Status.registered and ticket.master_id is None


# ---------------------------------------------------------------- callback, close, reopen


def test_a_dissatisfied_caller_reopens_the_ticket_with_the_same_unit(session, people):
    ticket = build(session, people, Status.callback_done)  # "水还是时有时无"
    first_round = (ticket.accept_due_at, ticket.reply_due_at)
    clock.advance(timedelta(days=1))
    event = L.reopen(session, ticket, actor=people.agent)
    session.flush()

    assert ticket.status == Status.dispatched and ticket.lead_unit_id == people.unit_a
    assert {(u.unit_id, u.role) for u in ticket.active_units()} == {
        (people.unit_a, UnitRole.lead), (people.unit_a_co, UnitRole.co)}
    assert all(u.status == UnitTaskStatus.dispatched for u in ticket.active_units())
    assert ticket.accept_due_at == clock.now() + timedelta(hours=2)
    assert ticket.accept_due_at > first_round[0] and ticket.reply_due_at > first_round[1]
    assert "水还是时有时无" in event.reason
    assert event.details["previous_satisfaction"] == "dissatisfied"
    assert ticket.reopen_count == 1 and ticket.satisfaction is None and ticket.callback_attempts == 0
    L.accept(session, ticket, actor=people.handler_a)  # the same unit picks it up again


def test_an_unresolved_but_satisfied_callback_may_also_reopen(session, people):
    ticket = build(session, people, Status.callback_pending)
    L.record_callback(session, ticket, actor=people.agent, reached=True, resolved=False, satisfaction="satisfied")
    L.reopen(session, ticket, actor=people.agent, reason="问题未解决")
    assert ticket.status == Status.dispatched


def test_close_after_a_satisfied_callback_needs_no_reason(session, people):
    ticket = build(session, people, Status.callback_pending)
    L.record_callback(session, ticket, actor=people.agent, reached=True, resolved=True,
                      satisfaction="basically_satisfied")
    L.close(session, ticket, actor=people.agent)
    assert ticket.status == Status.closed and ticket.close_reason == "callback"
    assert ticket.satisfaction == Satisfaction.basically_satisfied


def test_closing_over_a_dissatisfied_caller_needs_a_reason(session, people):
    ticket = build(session, people, Status.callback_done)
    with pytest.raises(Invalid):
        L.close(session, ticket, actor=people.agent)
    L.close(session, ticket, actor=people.agent, reason="诉求超出政策规定，已解释")
    assert ticket.status == Status.closed and ticket.satisfaction == Satisfaction.dissatisfied


def test_an_unreached_caller_closes_as_not_reached_with_a_reason(session, people):
    ticket = build(session, people, Status.callback_pending)
    event = L.record_callback(session, ticket, actor=people.agent, reached=False, comment="电话无人接听")
    assert (event.action, event.to_status) == ("callback_attempt", None)
    assert ticket.status == Status.callback_pending and ticket.callback_attempts == 1

    with pytest.raises(Invalid):
        L.close(session, ticket, actor=people.agent)
    assert ticket.status == Status.callback_pending
    L.close(session, ticket, actor=people.agent, reason="三次回访均无人接听")
    assert ticket.status == Status.closed
    assert ticket.satisfaction == Satisfaction.not_reached and ticket.close_reason == "not_reached"


def test_a_reached_callback_needs_a_verdict(session, people):
    ticket = build(session, people, Status.callback_pending)
    with pytest.raises(Invalid):
        L.record_callback(session, ticket, actor=people.agent, reached=True, satisfaction="satisfied")
    with pytest.raises(Invalid):
        L.record_callback(session, ticket, actor=people.agent, reached=True, resolved=True, satisfaction="great")
    with pytest.raises(Invalid):
        L.record_callback(session, ticket, actor=people.agent, reached=True, resolved=True,
                          satisfaction="not_reached")
    assert ticket.status == Status.callback_pending


def test_send_back_keeps_the_reply_deadline(session, people):
    ticket = build(session, people, Status.replied)
    due = ticket.reply_due_at
    L.send_back_reply(session, ticket, actor=people.dispatcher, reason="未说明恢复供水时间")
    assert ticket.status == Status.in_progress and ticket.reply_due_at == due
    assert ticket.lead_task().status == UnitTaskStatus.accepted


def test_intake_outcomes_need_their_words(session, people):
    ticket = build(session, people, Status.registered)
    with pytest.raises(Invalid):
        L.answer_directly(session, ticket, actor=people.agent, answer=" ")
    with pytest.raises(Invalid):
        L.refuse(session, ticket, actor=people.agent, reason="")
    with pytest.raises(Invalid) as err:
        L.hand_off(session, ticket, actor=people.agent, to="911")
    assert err.value.code == "invalid_handoff"
    assert ticket.status == Status.registered


# ---------------------------------------------------------------- concurrency


def test_a_concurrent_change_is_caught_and_the_first_one_kept(db, session, people):
    ticket = build(session, people, Status.registered)
    session.commit()
    first, second = db.session(), db.session()
    try:
        # Two people open the same ticket. (Each load ends its transaction: on SQLite a write
        # transaction holds the whole database, so an open one would make the other wait.)
        mine = first.get(Ticket, ticket.id)
        first.commit()
        theirs = second.get(Ticket, ticket.id)
        second.commit()
        assert mine.version == theirs.version

        L.dispatch(first, mine, actor=people.dispatcher, lead_unit_id=people.unit_a)
        first.commit()
        L.refuse(second, theirs, actor=people.agent, reason="不属于受理范围")
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
    finally:
        first.close()
        second.close()

    session.expire_all()
    fresh = session.get(Ticket, ticket.id)
    assert fresh.status == Status.dispatched and fresh.lead_unit_id == people.unit_a
    assert fresh.refusal_reason is None
    assert [e.action for e in events(session, fresh)] == ["register", "dispatch"]


# ---------------------------------------------------------------- numbers and intake checks


def test_ticket_numbers_are_per_local_day_and_consecutive(session, people):
    clock.freeze(datetime(2026, 11, 27, 23, 30, tzinfo=SH))  # 15:30 UTC
    late = [register(session, people) for _ in range(3)]
    clock.freeze(datetime(2026, 11, 28, 0, 10, tzinfo=SH))  # still Nov 27 in UTC
    early = register(session, people)
    assert [t.number for t in late] == ["20261127-000001", "20261127-000002", "20261127-000003"]
    assert early.number == "20261128-000001"
    assert all(len(t.query_code) == 6 and t.query_code.isdigit() for t in [*late, early])


def test_the_number_follows_when_the_call_came_in(session, people):
    clock.freeze(datetime(2026, 11, 28, 8, 0, tzinfo=SH))
    ticket = register(session, people, received_at=datetime(2026, 11, 27, 23, 30, tzinfo=SH))
    assert ticket.number.startswith("20261127-")


def test_ticket_numbers_are_unique_across_transactions(db, session, people):
    numbers = set()
    for _ in range(3):
        with db.transaction() as s:
            numbers.add(register(s, people).number)
    numbers.add(register(session, people).number)
    assert numbers == {f"20260914-{n:06d}" for n in range(1, 5)}


@pytest.mark.parametrize(("raw", "stored"), [
    ("0359-1234567", "+863591234567"),
    ("138 0359 0001", "+8613803590001"),
    ("+86 138-0359-0001", "+8613803590001"),
])
def test_phone_numbers_are_stored_in_e164(session, people, raw, stored):
    assert register(session, people, caller_phone=raw).caller_phone == stored


@pytest.mark.parametrize("raw", ["12345", "1380359000", "0359-123", "abc"])
def test_an_invalid_phone_is_refused(session, people, raw):
    with pytest.raises(Invalid) as err:
        register(session, people, caller_phone=raw)
    assert err.value.code == "invalid_phone" and err.value.details["field"] == "caller_phone"


@pytest.mark.parametrize(("fields", "code"), [
    ({"content": ""}, "empty"),
    ({"content": "   \n "}, "empty"),
    ({"content": "漏" * 5001}, "too_long"),
    ({"category_code": "0199"}, "unknown_category"),
    ({"region_code": "140828999999"}, "unknown_region"),
    ({"kind": "rumour"}, "unknown_kind"),
    ({"urgency": "whenever"}, "unknown_urgency"),
    ({"channel": "fax"}, "unknown_channel"),
    ({"latitude": 35.1}, "invalid_coordinates"),
    ({"caller_name": None, "caller_phone": None}, "caller_required"),
])
def test_intake_refuses_what_cannot_be_handled(session, people, fields, code):
    with pytest.raises(Invalid) as err:
        register(session, people, **fields)
    assert err.value.code == code


def test_a_refused_choice_names_the_choices_in_chinese_with_their_codes(session, people):
    """The API, the CLI and the pages all show these messages: the words people see come first."""
    with pytest.raises(Invalid, match="未知诉求类型「rumour」，可选：咨询（consultation）、求助（help）、投诉"):
        register(session, people, kind="rumour")
    with pytest.raises(Invalid, match="未知紧急程度「whenever」，可选：一般（normal）、紧急（urgent）、特急（emergency）$"):
        register(session, people, urgency="whenever")
    ticket = make_ticket(session, people, Status.callback_pending)
    for given, message in ((None, "请选择满意度"), ("not_reached", "已联系上来电人时不能记为未联系上"),
                           ("happy", "未知满意度「happy」，可选：满意（satisfied）、基本满意（basically_satisfied）、"
                                     "不满意（dissatisfied）")):
        with pytest.raises(Invalid) as err:
            L.record_callback(session, ticket, actor=people.agent, reached=True, resolved=True, satisfaction=given)
        assert (err.value.message, err.value.code) == (message, "invalid_satisfaction")
    assert ticket.status == Status.callback_pending and ticket.callback_attempts == 0


def test_the_longest_allowed_content_is_accepted(session, people):
    assert len(register(session, people, content="漏" * 5000).content) == 5000


def test_an_anonymous_caller_needs_neither_name_nor_phone(session, people):
    ticket = register(session, people, caller_name=None, caller_phone=None, caller_anonymous=True)
    assert ticket.caller_anonymous and ticket.caller_name is None and ticket.caller_phone is None


def test_a_name_alone_or_a_phone_alone_is_enough(session, people):
    assert register(session, people, caller_phone=None).caller_name == "张先生"
    assert register(session, people, caller_name=None).caller_phone == "+8613803590001"


def test_a_pending_extension_lapses_when_the_ticket_closes(session, people):
    ticket = _normal_in_progress(session, people)
    L.request_extension(session, ticket, actor=people.handler_a, amount=2, reason="需要采购闸阀配件")
    for action in ("reply", "accept_reply", "callback_good", "close"):
        step(session, people, ticket, action)
    [req] = requests(session, ticket, RequestType.extension)
    assert req.state == RequestState.rejected and "自动撤销" in req.decision_note
    due = ticket.reply_due_at
    with pytest.raises(TransitionNotAllowed):
        L.approve_extension(session, ticket, actor=people.dispatcher)
    assert ticket.reply_due_at == due


def test_a_pending_extension_is_withdrawn_when_the_reply_is_in(session, people):
    ticket = make_ticket(session, people, Status.in_progress)
    L.request_extension(session, ticket, actor=people.handler_a, amount=3, reason="需等待配件到货")
    step(session, people, ticket, "reply")
    [req] = requests(session, ticket, RequestType.extension)
    assert req.state == RequestState.rejected and req.decided_by_id is None
    assert req.decision_note == "已反馈，延期申请自动撤销"
    lapsed = events(session, ticket)[-1]  # on the timeline, after the reply, in the platform's name
    assert (lapsed.action, lapsed.actor_name, lapsed.reason, lapsed.unit_id) == (
        "note", "系统", "已反馈，延期申请自动撤销", people.unit_a)
    due = ticket.reply_due_at
    with pytest.raises(TransitionNotAllowed) as refused:
        L.approve_extension(session, ticket, actor=people.dispatcher)
    assert "没有待审批的延期申请" in refused.value.message
    assert ticket.reply_due_at == due and ticket.extension_count == 0
    # Sent back, the unit may ask again: the withdrawn request does not block a new one.
    L.send_back_reply(session, ticket, actor=people.dispatcher, reason="未说明配件何时到货")
    L.request_extension(session, ticket, actor=people.handler_a, amount=1, reason="配件下周到货")


def test_odd_ticket_keys_are_simply_not_found(session, people):
    make_ticket(session, people)
    for key in ("²", "99999999999999999999", "0", "-1"):
        with pytest.raises(NotFound):
            queries.get_ticket(session, scope_for(people.agent), key)


def test_a_nul_character_is_refused_on_every_backend(session, people):
    with pytest.raises(Invalid) as refused:
        register(session, people, content="停水\x00了")
    assert refused.value.code == "nul_character"
