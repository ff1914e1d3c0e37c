"""Random walks through the lifecycle (Hypothesis state machine) and the rules no walk may break.

Each step picks a ticket, an action, an actor and an input variant; some steps follow the
lifecycle the way staff would, others are anything at all. A refused step must fail with a domain
error and change nothing; an accepted one must leave a ticket that still makes sense:

* its status is reachable along ``states.TRANSITIONS`` from the status before;
* each status change has exactly one timeline event with the matching from/to, and the timeline's
  status events chain from registration to the current status;
* a closed ticket has a callback outcome or a direct answer;
* due times move only when a round starts (dispatch, redispatch, reopen) or later (extension, resume);
* a finished ticket only ever gets archived; a handler only changes tickets its unit works on.

SQLite only, to keep the run short; the lifecycle code is the same on both backends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import inspect, select

from hotline.accounts.models import Role, User
from hotline.kit import clock
from hotline.kit.db import Database
from hotline.kit.errors import Invalid, NotFound, PermissionDenied, TransitionNotAllowed
from hotline.tickets import lifecycle as L
from hotline.tickets.models import Satisfaction, Ticket, TicketEvent, TicketRequest, UnitTaskStatus
from hotline.tickets.states import FINAL, NON_TRANSITIONS, TRANSITIONS, Status, allowed_actions, successors
from tests.builders import Personas, make_personas, register
from tests.conftest import _clean

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 14, 9, 0, tzinfo=SH)
REFUSALS = (TransitionNotAllowed, Invalid, PermissionDenied, NotFound)
ACTORS = ("agent", "dispatcher", "handler_a", "handler_a_co", "handler_b", "supervisor", "admin", None)
# Everything staff do to a ticket after intake (co-handlers' parts and callback attempts are
# variants of accept, reply and record_callback).
ACTIONS = sorted(set(TRANSITIONS) | {"request_extension", "approve_extension", "refuse_extension"})
STAGES = ("dispatch", "accept", "contact", "reply")
NEW_ROUND = {"dispatch", "redispatch", "reopen"}

_database: Database | None = None


# ---------------------------------------------------------------- performing an action


def _words(variant: int, text: str) -> str:
    return "" if variant == 0 else text  # variant 0 leaves required words out


def perform(s, p: Personas, t: Ticket, action: str, actor: User | None, variant: int, other: Ticket) -> Any:
    lead = (p.unit_a, p.unit_b)[variant % 2]
    co = [p.unit_a_co] if variant >= 2 else []
    calls: dict[str, Callable[[], Any]] = {
        "answer_directly": lambda: L.answer_directly(s, t, actor=actor, answer=_words(variant, "可到营业厅办理")),
        "hand_off": lambda: L.hand_off(s, t, actor=actor, to=("911", "110", "119", "120")[variant]),
        "refuse": lambda: L.refuse(s, t, actor=actor, reason=_words(variant, "不属于受理范围")),
        "dispatch": lambda: L.dispatch(s, t, actor=actor, lead_unit_id=lead, co_unit_ids=co),
        "accept": lambda: L.accept(s, t, actor=actor),
        "record_contact": lambda: L.record_contact(s, t, actor=actor),
        "request_return": lambda: L.request_return(s, t, actor=actor, reason=_words(variant, "不归本单位")),
        "redispatch": lambda: L.redispatch(s, t, actor=actor, lead_unit_id=lead, co_unit_ids=co),
        "reject_return": lambda: L.reject_return(s, t, actor=actor, reason=_words(variant, "属于本单位职责")),
        "suspend": lambda: L.suspend(s, t, actor=actor, reason=_words(variant, "等待来电人")),
        "resume": lambda: L.resume(s, t, actor=actor),
        "request_extension": lambda: L.request_extension(s, t, actor=actor, amount=variant,
                                                         unit=("hours", "working_days")[variant % 2],
                                                         reason="需要采购配件"),
        "approve_extension": lambda: L.approve_extension(s, t, actor=actor, amount=(None, 1, None, 0)[variant]),
        "refuse_extension": lambda: L.refuse_extension(s, t, actor=actor, reason=_words(variant, "理由不足")),
        "reply": lambda: L.reply(s, t, actor=actor, text=_words(variant, "已处理完毕")),
        "accept_reply": lambda: L.accept_reply(s, t, actor=actor),
        "send_back_reply": lambda: L.send_back_reply(s, t, actor=actor, reason=_words(variant, "反馈不完整")),
        "record_callback": lambda: L.record_callback(
            s, t, actor=actor, reached=variant != 0, resolved=(None, True, False, None)[variant],
            satisfaction=(None, "satisfied", "dissatisfied", "satisfied")[variant], comment="回访记录"),
        "close": lambda: L.close(s, t, actor=actor, reason=_words(variant, "已向来电人说明")),
        "reopen": lambda: L.reopen(s, t, actor=actor),
        "merge": lambda: L.merge(s, t, actor=actor, master=other),
        "archive": lambda: L.archive(s, t, actor=actor),
    }
    return calls[action]()


ONWARDS: dict[Status, tuple[str, ...]] = {
    Status.registered: ("dispatch",),
    Status.dispatched: ("accept",),
    Status.accepted: ("record_contact", "request_extension", "suspend"),
    Status.in_progress: ("reply", "reply", "reply", "request_extension", "approve_extension", "refuse_extension"),
    Status.suspended: ("resume",),
    Status.return_requested: ("redispatch", "reject_return"),
    Status.replied: ("accept_reply", "accept_reply", "send_back_reply"),
    Status.callback_pending: ("record_callback", "close"),
    Status.callback_done: ("close", "reopen"),
}

LEAD_WORK = {"accept", "record_contact", "request_return", "suspend", "resume", "request_extension", "reply"}
CO_WORK = {"accept", "reply"}


def sensible_actor(p: Personas, t: Ticket, action: str, co: bool) -> User:
    """Who would normally do this: the lead unit's (or a co-handler's) handler, else the centre."""
    if action in LEAD_WORK:
        if co and action in CO_WORK and t.task_of(p.unit_a_co) is not None:
            return p.handler_a_co
        return p.handler_b if t.lead_unit_id == p.unit_b else p.handler_a
    return p.dispatcher if action in {"dispatch", "redispatch", "reject_return", "approve_extension",
                                      "refuse_extension", "accept_reply", "send_back_reply", "archive"} else p.agent


# ---------------------------------------------------------------- what a ticket looks like


@dataclass(frozen=True)
class View:
    columns: dict[str, Any]
    units: tuple[tuple[int, str, str], ...]
    events: tuple[tuple[str, str | None, str | None], ...]
    requests: tuple[tuple[str, str], ...]

    @property
    def status(self) -> Status:
        return self.columns["status"]

    def due(self, stage: str) -> datetime | None:
        return self.columns[f"{stage}_due_at"]


def view(s, t: Ticket) -> View:
    columns = {a.key: getattr(t, a.key) for a in inspect(Ticket).column_attrs if a.key not in ("due_basis",)}
    units = tuple((u.unit_id, u.role.value, u.status.value) for u in t.units)
    rows = s.execute(select(TicketEvent.action, TicketEvent.from_status, TicketEvent.to_status)
                     .where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id))
    events = tuple(tuple(row) for row in rows)
    reqs = tuple((r.type.value, r.state.value) for r in s.scalars(
        select(TicketRequest).where(TicketRequest.ticket_id == t.id).order_by(TicketRequest.id)))
    return View(columns, units, events, reqs)


def memory_view(t: Ticket) -> tuple[dict[str, Any], tuple[tuple[int, str, str], ...]]:
    """The object as the caller holds it, without touching the database."""
    columns = {a.key: getattr(t, a.key) for a in inspect(Ticket).column_attrs}
    return columns, tuple((u.unit_id, u.role.value, u.status.value) for u in t.units)


# ---------------------------------------------------------------- the machine


class Lifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert _database is not None
        _clean(_database)
        clock.freeze(T0)
        self.s = _database.session()
        self.p = make_personas(self.s)
        self.s.commit()
        self.ids: list[int] = []
        self.views: dict[int, View] = {}

    def teardown(self) -> None:
        self.s.close()
        clock.freeze(None)

    # -- rules

    @precondition(lambda self: len(self.ids) < 3)
    @rule(urgency=st.sampled_from(["normal", "urgent", "emergency"]), confidential=st.booleans())
    def register(self, urgency: str, confidential: bool) -> None:
        t = register(self.s, self.p, urgency=urgency, caller_confidential=confidential)
        self.s.commit()
        self.ids.append(t.id)
        self.views[t.id] = view(self.s, t)

    @precondition(lambda self: self.ids)
    @rule(mode=st.sampled_from(["onwards", "onwards", "as_staff_would", "anything"]),
          pick=st.integers(0, 3), other=st.integers(0, 3), choice=st.integers(0, 20),
          action=st.sampled_from(ACTIONS), actor=st.sampled_from(ACTORS), variant=st.integers(0, 3),
          co=st.booleans(), hours=st.sampled_from([0, 0, 1, 7, 30, 80]))
    def act(self, mode: str, pick: int, other: int, choice: int, action: str, actor: str | None, variant: int,
            co: bool, hours: int) -> None:
        """Time passes, then somebody does something to a ticket:

        * onwards: the next step on the usual road (so walks reach callbacks, closing, reopening);
        * as_staff_would: any action the status allows, by the person who would normally act;
        * anything: any action by anyone, most of which must be refused.
        """
        clock.advance(timedelta(hours=hours, minutes=hours % 7))
        if mode == "onwards":
            open_ids = [i for i, tid in enumerate(self.ids) if self.s.get(Ticket, tid).status not in FINAL]
            pick = open_ids[pick % len(open_ids)] if open_ids else pick
            t = self.ticket(pick)
            road = ONWARDS.get(t.status, ("archive",))
            action = road[choice % len(road)]
            if t.status == Status.callback_done:  # reopen what the caller did not accept, close the rest
                action = "reopen" if L.callback_negative(t) and choice % 3 else "close"
            self.step(pick, other, action, sensible_actor(self.p, t, action, co), max(variant, 1))
        elif mode == "as_staff_would":
            t = self.ticket(pick)
            options = allowed_actions(t.status)
            if t.status in (Status.accepted, Status.in_progress, Status.suspended):
                options += ["request_extension", "approve_extension", "refuse_extension"]
            if options:
                action = options[choice % len(options)]
                self.step(pick, other, action, sensible_actor(self.p, t, action, co), max(variant, 1))
        else:
            self.step(pick, other, action, getattr(self.p, actor) if actor else None, variant)

    # -- one step and the rules it must keep

    def ticket(self, pick: int) -> Ticket:
        return self.s.get(Ticket, self.ids[pick % len(self.ids)])

    def step(self, pick: int, other: int, action: str, actor: User | None, variant: int) -> None:
        t, o = self.ticket(pick), self.ticket(other)
        # An action only ever gets these two tickets, and a merge also the tickets merged into the
        # first (they follow it to its master).
        followers = [tid for tid in self.ids if action == "merge" and self.s.get(Ticket, tid).master_id == t.id]
        touched = list(dict.fromkeys([t.id, o.id, *followers]))
        before = {tid: self.views[tid] for tid in touched}  # as the last step left them
        held = memory_view(t), memory_view(o)
        try:
            perform(self.s, self.p, t, action, actor, variant, o)
            self.s.commit()
        except REFUSALS:
            # Checks come before changes: the caller's objects are untouched even before rollback.
            assert (memory_view(t), memory_view(o)) == held, f"{action} changed the ticket and then refused"
            self.s.rollback()
            after = {tid: view(self.s, self.s.get(Ticket, tid)) for tid in touched}
            assert after == before, f"refused {action} left changes behind"
            return
        after = {tid: view(self.s, self.s.get(Ticket, tid)) for tid in touched}
        for tid in touched:
            self.check_step(action if tid == t.id else "note", actor, before[tid], after[tid])
        for tid in followers:  # no caller is left attached to a merged ticket
            assert self.s.get(Ticket, tid).master_id == t.master_id, "a duplicate stayed with a merged master"
        self.views.update(after)

    def check_step(self, action: str, actor: User | None, old: View, new: View) -> None:
        added = new.events[len(old.events):]
        assert new.events[:len(old.events)] == old.events, "the timeline is append-only"
        if old == new:
            return

        # The status is reachable along the graph.
        saved = old.columns["status_before"]
        assert (new.status == old.status or new.status in successors(old.status)
                or (action in ("resume", "reject_return") and new.status == saved)), (action, old.status, new.status)

        # Exactly one event per status change, with the matching from/to.
        moves = [(f, to) for _, f, to in added if to is not None and f != to]
        if new.status != old.status:
            assert moves == [(old.status.value, new.status.value)], (action, added)
        else:
            assert moves == [], (action, added)

        # Due times: fresh in a new round, otherwise only ever later, and only by extension, resume
        # or a rejected return (the review's wait given back).
        if action not in NEW_ROUND:
            for stage in STAGES:
                was, now = old.due(stage), new.due(stage)
                if action in ("approve_extension", "resume", "reject_return"):
                    assert was is None or (now is not None and now >= was), (action, stage, was, now)
                else:
                    assert now == was, (action, stage, was, now)
        if action == "approve_extension" and old.due("reply") is not None:
            assert new.due("reply") > old.due("reply")

        # A finished ticket is only archived; a merged duplicate also follows its master when that
        # master is merged into another ticket (one note saying so).
        if old.status in FINAL:
            follows = action == "note" and old.columns["master_id"] is not None
            assert [a for a, _, _ in added] == (["note"] if follows else ["archive"]), (old.status, added)

        # A handler acts only on tickets its unit has a live part in.
        if actor is not None and actor.role == Role.handler:
            live = {u for u, _, st_ in old.units if st_ != UnitTaskStatus.withdrawn.value}
            assert actor.unit_id in live

    # -- invariants over every ticket after every step

    @invariant()
    def timeline_explains_the_status(self) -> None:
        for tid, v in self.views.items():
            moves = [(f, to) for _, f, to in v.events if to is not None and f != to]
            assert moves[0] == (None, Status.registered.value), (tid, moves)
            for (_, prev_to), (nxt_from, _) in zip(moves, moves[1:], strict=False):
                assert nxt_from == prev_to, (tid, moves)
            assert moves[-1][1] == v.status.value, (tid, moves, v.status)

    @invariant()
    def closed_tickets_have_an_outcome(self) -> None:
        for v in self.views.values():
            c = v.columns
            if v.status == Status.closed or (v.status == Status.archived and c["closed_at"] and not c["handoff_to"]
                                             and not c["refusal_reason"] and not c["master_id"]):
                assert c["satisfaction"] is not None or c["direct_answer"] is not None, c
            if c["satisfaction"] == Satisfaction.not_reached:
                assert c["callback_attempts"] >= 1

    @invariant()
    def units_follow_the_lead(self) -> None:
        for v in self.views.values():
            live = [(u, role) for u, role, st_ in v.units if st_ != UnitTaskStatus.withdrawn.value]
            leads = [u for u, role in live if role == "lead"]
            if v.status in (Status.dispatched, Status.accepted, Status.in_progress, Status.suspended,
                            Status.return_requested, Status.replied, Status.callback_pending, Status.callback_done):
                assert leads == [v.columns["lead_unit_id"]], (v.status, v.units)
            if v.status == Status.merged or v.status == Status.registered:
                assert live == [], (v.status, v.units)


def test_random_walks_keep_the_lifecycle_rules(sqlite_db):
    global _database
    _database = sqlite_db
    try:
        run_state_machine_as_test(Lifecycle, settings=settings(
            max_examples=30, stateful_step_count=25, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    finally:
        _database = None
        _clean(sqlite_db)


def test_the_machine_knows_every_staff_action():
    # A new action in the graph or among the recorded ones must be added to the walk (or listed
    # here as not being a staff action on one ticket).
    not_walked = {"register", "note", "accept_part", "reply_part", "callback_attempt", "recompute_due",
                  "incident",  # written by incidents.service.confirm, not a ticket action
                  "incident_notice",  # written by incidents.public_notice.publish, likewise
                  "assessment"}  # analytics.exclusions: a ruling on the assessment, no status change
    assert set(TRANSITIONS) | set(NON_TRANSITIONS) <= set(ACTIONS) | not_walked
