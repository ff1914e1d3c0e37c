"""The deadline sweep, with the clock moved through weekends, 国庆 and a 调休 working Saturday.

Each test registers a ticket at a known local time, walks it to a stage, then moves the clock to
one minute before and one minute after the moment a step is due and runs the sweep: the step
appears on the timeline exactly at its minute, once, and the unit's staff are told.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hotline.directory import settings
from hotline.kit import clock
from hotline.notify.models import OutboxMessage
from hotline.supervision.models import DeadlineAlert, OrderLevel, SupervisionOrder
from hotline.supervision.sweep import claim_due, sweep_deadlines
from hotline.tickets import lifecycle
from hotline.tickets.models import Ticket, TicketEvent
from tests.builders import register

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def steps_of(db, ticket_id: int, stage: str | None = None) -> list[str]:
    with db.session() as s:
        query = select(DeadlineAlert.step).where(DeadlineAlert.ticket_id == ticket_id).order_by(DeadlineAlert.id)
        if stage:
            query = query.where(DeadlineAlert.stage == stage)
        return list(s.scalars(query))


def events_of(db, ticket_id: int, action: str) -> list[TicketEvent]:
    with db.session() as s:
        return list(s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                        TicketEvent.action == action).order_by(TicketEvent.id)))


def sweep_at(db, moment: datetime) -> dict[str, int]:
    clock.freeze(moment)
    return sweep_deadlines(db, worker="test")


def in_reply_stage(db, people, received: datetime, **fields) -> int:
    """A water ticket (reply limit: 3 working days) registered, dispatched, accepted and contacted
    at ``received``, so only the reply clock runs."""
    clock.freeze(received)
    with db.transaction() as s:
        ticket = register(s, people, urgency="normal", **fields)
        lifecycle.dispatch(s, ticket, actor=people.dispatcher, lead_unit_id=people.unit_a)
        lifecycle.accept(s, ticket, actor=people.handler_a)
        lifecycle.record_contact(s, ticket, actor=people.handler_a)
        return ticket.id


def test_reply_deadline_across_national_day_warns_and_goes_overdue_at_the_minute(tdb, people):
    # Wed 30 Sep 10:00 + 3 working days: 1–7 Oct are off, Thu 8, Fri 9 and the 调休 Saturday 10 Oct
    # are worked, so the reply is due Sat 10 Oct 10:00. Working time from start to due: 14 h on
    # 30 Sep + 24 h + 24 h + 10 h = 72 h; 80 % of it (57.6 h) is used up on Fri 9 Oct at 19:36.
    tid = in_reply_stage(tdb, people, at(2026, 9, 30, 10, 0))
    with tdb.session() as s:
        ticket = s.get(Ticket, tid)
        assert clock.local(ticket.reply_due_at) == at(2026, 10, 10, 10, 0)
    for day in range(1, 8):  # nothing during the holiday
        sweep_at(tdb, at(2026, 10, day, 12, 0))
    sweep_at(tdb, at(2026, 10, 9, 19, 35))
    assert steps_of(tdb, tid, "reply") == []
    sweep_at(tdb, at(2026, 10, 9, 19, 37))
    assert steps_of(tdb, tid, "reply") == ["warn"]
    [warn] = events_of(tdb, tid, "warn")
    assert "10月10日 10:00" in warn.reason and warn.actor_name == "系统"
    sweep_at(tdb, at(2026, 10, 10, 9, 59))
    assert steps_of(tdb, tid, "reply") == ["warn"]
    sweep_at(tdb, at(2026, 10, 10, 10, 1))
    assert steps_of(tdb, tid, "reply") == ["warn", "overdue"]
    sweep_at(tdb, at(2026, 10, 10, 11, 1))  # urged one hour after the deadline (default rule)
    assert steps_of(tdb, tid, "reply") == ["warn", "overdue", "urge"]
    with tdb.session() as s:
        templates = sorted(s.scalars(select(OutboxMessage.template_code).where(OutboxMessage.ticket_id == tid,
                                                                              OutboxMessage.recipient == str(people.handler_a.id))))
    assert [t for t in templates if t != "unit.dispatch"] == ["unit.overdue", "unit.urge", "unit.warning"]


def test_hour_limits_ignore_the_weekend_and_working_day_limits_skip_it(tdb, people):
    # Friday 27 Nov 2026 16:00. Dispatch limit for water: 2 hours → due 18:00, warned at 17:36.
    clock.freeze(at(2026, 11, 27, 16, 0))
    with tdb.transaction() as s:
        tid = register(s, people, urgency="normal").id
    sweep_at(tdb, at(2026, 11, 27, 17, 35))
    assert steps_of(tdb, tid) == []
    sweep_at(tdb, at(2026, 11, 27, 17, 36))
    assert steps_of(tdb, tid) == ["warn"]
    sweep_at(tdb, at(2026, 11, 27, 18, 0))
    assert steps_of(tdb, tid) == ["warn", "overdue"]
    # The dispatch stage is the centre's: no urging or escalation to a unit.
    sweep_at(tdb, at(2026, 11, 30, 18, 0))
    assert steps_of(tdb, tid) == ["warn", "overdue"]

    # Reply: Fri 16:00 + 3 working days = Wed 2 Dec 16:00; the weekend does not count.
    other = in_reply_stage(tdb, people, at(2026, 11, 27, 16, 0))
    sweep_at(tdb, at(2026, 11, 29, 23, 0))  # Sunday night: far from due in working time
    assert steps_of(tdb, other, "reply") == []
    sweep_at(tdb, at(2026, 12, 2, 15, 59))
    assert steps_of(tdb, other, "reply") == ["warn"]
    sweep_at(tdb, at(2026, 12, 2, 16, 0))
    assert steps_of(tdb, other, "reply") == ["warn", "overdue"]


def test_a_sweep_run_twice_or_by_two_threads_takes_each_step_once(tdb, people):
    ids = [in_reply_stage(tdb, people, at(2026, 11, 2, 9, 0)) for _ in range(12)]
    late = at(2026, 11, 5, 9, 30)  # past the deadline (Thu 5 Nov 09:00), before the urge
    results: list[dict] = []

    def run() -> None:
        results.append(sweep_deadlines(tdb, worker=threading.current_thread().name, now=late.astimezone(SH),
                                       batch=5))

    threads = [threading.Thread(target=run, name=f"w{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sweep_at(tdb, late)
    with tdb.session() as s:
        per_ticket = dict(s.execute(select(DeadlineAlert.ticket_id, func.count()).where(DeadlineAlert.stage == "reply")
                                    .group_by(DeadlineAlert.ticket_id)).all())
        overdue_events = s.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "overdue"))
    assert per_ticket == {tid: 2 for tid in ids}  # warn + overdue, once each
    assert overdue_events == 12
    assert sum(r["tickets"] for r in results) == 12


def test_a_claimed_ticket_is_not_claimed_again_until_its_lease_runs_out(tdb, people):
    tid = in_reply_stage(tdb, people, at(2026, 11, 2, 9, 0))
    now = at(2026, 11, 5, 9, 30)
    first = claim_due(tdb, now=now, lease=timedelta(minutes=5))
    assert [t for t, _ in first] == [tid]
    assert claim_due(tdb, now=now + timedelta(minutes=4)) == []  # the first worker died here
    again = claim_due(tdb, now=now + timedelta(minutes=6))
    assert [t for t, _ in again] == [tid]
    assert steps_of(tdb, tid) == []  # claiming alone takes no step
    sweep_at(tdb, now + timedelta(minutes=12))  # that claim's lease ran out too
    assert steps_of(tdb, tid, "reply") == ["warn", "overdue"]


def test_an_approved_extension_starts_a_fresh_ladder(tdb, people):
    tid = in_reply_stage(tdb, people, at(2026, 11, 2, 9, 0))  # due Thu 5 Nov 09:00
    sweep_at(tdb, at(2026, 11, 4, 20, 0))
    assert steps_of(tdb, tid, "reply") == ["warn"]
    with tdb.transaction() as s:
        ticket = s.get(Ticket, tid)
        lifecycle.request_extension(s, ticket, actor=people.handler_a, amount=2, reason="需协调供水站更换主管道")
        lifecycle.approve_extension(s, ticket, actor=people.dispatcher)
        assert clock.local(ticket.reply_due_at) == at(2026, 11, 9, 9, 0)
    sweep_at(tdb, at(2026, 11, 5, 9, 30))  # the old deadline passes: not overdue any more
    assert steps_of(tdb, tid, "reply") == ["warn"]
    sweep_at(tdb, at(2026, 11, 9, 9, 1))
    assert steps_of(tdb, tid, "reply") == ["warn", "warn", "overdue"]


def test_a_suspended_ticket_is_not_chased_and_replied_tickets_leave_the_sweep(tdb, people):
    tid = in_reply_stage(tdb, people, at(2026, 11, 2, 9, 0))
    with tdb.transaction() as s:
        lifecycle.suspend(s, s.get(Ticket, tid), actor=people.handler_a, reason="来电人外出，下周回来")
        assert s.get(Ticket, tid).watch_at is None
    sweep_at(tdb, at(2026, 11, 20, 9, 0))
    assert steps_of(tdb, tid) == []
    clock.freeze(at(2026, 11, 20, 10, 0))
    with tdb.transaction() as s:
        ticket = s.get(Ticket, tid)
        lifecycle.resume(s, ticket, actor=people.handler_a)
        lifecycle.reply(s, ticket, actor=people.handler_a, text="已修复")
        assert ticket.watch_at is None
    sweep_at(tdb, at(2026, 12, 30, 9, 0))
    assert steps_of(tdb, tid) == []


def test_a_return_waiting_for_review_is_not_chased_and_a_rejected_one_is(tdb, people):
    """退单待审 is the centre's move: the unit is neither warned nor told it is overdue nor urged
    while the centre decides; 驳回退单 puts the deadline back under the sweep, moved later by the
    working time the review took (the unit had one working day left when it asked)."""
    tid = in_reply_stage(tdb, people, at(2026, 11, 2, 9, 0))  # reply due Thu 5 Nov 09:00
    clock.freeze(at(2026, 11, 4, 9, 0))
    with tdb.transaction() as s:
        lifecycle.request_return(s, s.get(Ticket, tid), actor=people.handler_a, reason="不属于本单位职责")
        assert s.get(Ticket, tid).watch_at is None
    sweep_at(tdb, at(2026, 11, 9, 9, 0))  # days past the deadline, still under review
    assert steps_of(tdb, tid) == []
    clock.freeze(at(2026, 11, 9, 10, 0))
    with tdb.transaction() as s:
        lifecycle.reject_return(s, s.get(Ticket, tid), actor=people.dispatcher, reason="属于贵单位职责")
        assert s.get(Ticket, tid).watch_at is not None
    sweep_at(tdb, at(2026, 11, 9, 10, 1))
    assert "overdue" not in steps_of(tdb, tid, "reply")  # due Tue 10 Nov 10:00 now
    sweep_at(tdb, at(2026, 11, 10, 10, 1))
    assert "overdue" in steps_of(tdb, tid, "reply")


def test_escalation_issues_orders_and_tells_supervisors_and_the_parent_unit(tdb, people):
    from hotline.accounts.service import add_user
    from hotline.directory.models import Unit

    with tdb.transaction() as s:
        settings.set_value(s, "supervision.escalate_after_minutes", 120)
        settings.set_value(s, "supervision.parent_after_minutes", 240)
        parent = s.get(Unit, people.unit_a).parent_id
        boss = add_user(s, username="t-parent", display_name="县政府值班", role="handler",
                        unit_code=s.get(Unit, parent).code, phone="13900000001")
        boss_id = boss.id
    tid = in_reply_stage(tdb, people, at(2026, 11, 2, 9, 0))  # due Thu 5 Nov 09:00
    sweep_at(tdb, at(2026, 11, 5, 11, 0))
    assert steps_of(tdb, tid, "reply") == ["warn", "overdue", "urge", "escalate"]
    sweep_at(tdb, at(2026, 11, 5, 13, 0))
    assert steps_of(tdb, tid, "reply")[-1] == "escalate_parent"
    with tdb.session() as s:
        orders = list(s.scalars(select(SupervisionOrder).where(SupervisionOrder.ticket_id == tid)
                                .order_by(SupervisionOrder.id)))
        assert [o.level for o in orders] == [OrderLevel.general, OrderLevel.key]
        assert all(o.unit_id == people.unit_a for o in orders)
        told = {(m.template_code, m.recipient, m.channel.value) for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.ticket_id == tid))}
    assert ("supervisor.escalation", str(people.supervisor.id), "inbox") in told
    assert ("unit.escalation", str(boss_id), "inbox") in told
    assert ("unit.escalation", "+8613900000001", "sms") in told or ("unit.escalation", "13900000001", "sms") in told
    # A worker that was down: warn, overdue, urge and escalate became due together; the unit heard
    # only the latest (the supervision order), the timeline has all of them and says how late.
    with tdb.session() as s:
        notified = [m.template_code for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.ticket_id == tid, OutboxMessage.recipient == str(people.handler_a.id)))]
    assert "unit.warning" not in notified and "unit.urge" not in notified
    assert notified.count("unit.supervision") == 2
    [warn] = events_of(tdb, tid, "warn")
    assert warn.details["notified"] is False and warn.details["late_by_seconds"] > 0
    assert "补记" in warn.reason and "已过" in warn.reason and "将于" not in warn.reason  # not future tense


def _escalating(db) -> None:
    with db.transaction() as s:
        settings.set_value(s, "supervision.escalate_after_minutes", 120)
        settings.set_value(s, "supervision.parent_after_minutes", 240)


def _orders(db, ticket_id: int) -> list[tuple[OrderLevel, int | None]]:
    with db.session() as s:
        return [(o.level, o.issued_by_id) for o in s.scalars(
            select(SupervisionOrder).where(SupervisionOrder.ticket_id == ticket_id).order_by(SupervisionOrder.id))]


def _unit_orders_told(db, people, ticket_id: int) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.ticket_id == ticket_id, OutboxMessage.template_code == "unit.supervision",
            OutboxMessage.recipient == str(people.handler_a.id)))


def test_escalation_folds_into_a_supervisors_open_order_of_the_same_or_a_higher_level(tdb, people):
    """Overdue at 09:00, a supervisor's 一般督办 by hand at 10:00: the ladder's 升级督办 at 11:00
    issues no second order and tells the unit nothing more (the timeline says why); its 上级督办 at
    13:00, a higher level, still orders the unit (key) and tells the parent."""
    from hotline.accounts.models import User
    from hotline.supervision import orders

    _escalating(tdb)
    tid = in_reply_stage(tdb, people, at(2026, 11, 2, 9, 0))  # due Thu 5 Nov 09:00
    sweep_at(tdb, at(2026, 11, 5, 9, 1))
    clock.freeze(at(2026, 11, 5, 10, 0))
    with tdb.transaction() as s:
        orders.supervise(s, s.get(Ticket, tid), actor=s.get(User, people.supervisor.id), note="请今日答复")
    sweep_at(tdb, at(2026, 11, 5, 11, 1))
    assert steps_of(tdb, tid, "reply")[-1] == "escalate"
    assert _orders(tdb, tid) == [(OrderLevel.general, people.supervisor.id)]
    assert _unit_orders_told(tdb, people, tid) == 1
    [escalate] = events_of(tdb, tid, "escalate")
    assert escalate.details["folded"] is True and "人工下达的一般督办单未答复，并入该督办单" in escalate.reason
    sweep_at(tdb, at(2026, 11, 5, 13, 1))
    assert _orders(tdb, tid) == [(OrderLevel.general, people.supervisor.id), (OrderLevel.key, None)]
    assert _unit_orders_told(tdb, people, tid) == 2



def test_the_reply_stage_s_escalation_folds_into_the_ladder_s_open_order_of_the_accept_stage(tdb, people):
    """Not signed in time: the ladder's 升级督办 orders the unit (general). The unit signs late and
    leaves the order unanswered; when its reply goes overdue too, the reply stage's 升级督办 issues no
    second general order (one order, the unit told once), saying on the timeline which order it joins;
    the 上级督办 after it, a higher level, still orders the unit."""
    _escalating(tdb)
    clock.freeze(at(2026, 11, 2, 9, 0))
    with tdb.transaction() as s:
        ticket = register(s, people, urgency="normal")
        lifecycle.dispatch(s, ticket, actor=people.dispatcher, lead_unit_id=people.unit_a)
        tid, accept_due = ticket.id, ticket.accept_due_at
    sweep_at(tdb, accept_due + timedelta(minutes=121))
    assert "escalate" in steps_of(tdb, tid, "accept")
    assert _orders(tdb, tid) == [(OrderLevel.general, None)]
    clock.freeze(accept_due + timedelta(minutes=150))
    with tdb.transaction() as s:  # signed late, contacted; the order stays unanswered
        ticket = s.get(Ticket, tid)
        lifecycle.accept(s, ticket, actor=people.handler_a)
        lifecycle.record_contact(s, ticket, actor=people.handler_a)
        reply_due = ticket.reply_due_at
    sweep_at(tdb, reply_due + timedelta(minutes=121))
    assert steps_of(tdb, tid, "reply")[-1] == "escalate"
    assert _orders(tdb, tid) == [(OrderLevel.general, None)]
    assert _unit_orders_told(tdb, people, tid) == 1
    escalate = events_of(tdb, tid, "escalate")[-1]
    assert escalate.details["folded"] is True and "系统自动下达的一般督办单未答复，并入该督办单" in escalate.reason
    sweep_at(tdb, reply_due + timedelta(minutes=241))
    assert _orders(tdb, tid) == [(OrderLevel.general, None), (OrderLevel.key, None)]
    assert _unit_orders_told(tdb, people, tid) == 2
