"""当前超期 (overdue now) on the dashboard and the wall is the supervision board's 超期: an open ticket
past the due time of any stage still running (派单, 签收, 联系来电人, 反馈), not the reply alone; the
rollups and the raw aggregate agree on it.

The shipped limits for urgent tickets: sign within 2 hours, first contact within 4; the reply is
due days later.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.accounts.scope import SYSTEM
from hotline.analytics import dashboard, rollups
from hotline.kit import clock
from hotline.supervision import board
from hotline.tickets import lifecycle, queries, sla
from hotline.tickets.states import OPEN, Status
from tests.builders import make_ticket

CST = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)


def late_at_each_stage(session, p):
    """Four open tickets received at 9:00; the clock then stands where three are overdue, each at
    another stage (派单, 签收 with 联系来电人, 反馈), and one is within every limit."""
    clock.freeze(datetime(2026, 3, 2, 9, tzinfo=CST))
    not_dispatched = make_ticket(session, p, Status.registered)
    not_signed = make_ticket(session, p, Status.dispatched)
    clock.freeze(datetime(2026, 2, 20, 9, tzinfo=CST))
    not_replied = make_ticket(session, p, Status.in_progress)
    clock.freeze(datetime(2026, 3, 2, 15, tzinfo=CST))
    in_time = make_ticket(session, p, Status.in_progress)
    session.flush()
    now = clock.now()
    assert not_dispatched.dispatch_due_at < now and not_dispatched.lead_unit_id is None
    assert not_signed.accept_due_at < now < not_signed.reply_due_at  # late to sign, not to reply
    assert not_replied.reply_due_at < now
    assert in_time.reply_due_at > now and in_time.contacted_at is not None
    return not_dispatched, not_signed, not_replied, in_time


def board_total(session) -> int:
    """The 超期工单 total of the supervision board."""
    f = queries.TicketFilter(status=[s.value for s in OPEN], overdue=True)
    return queries.list_tickets(session, SYSTEM, f, per_page=1)[1]


def test_overdue_now_counts_every_stage_as_the_supervision_board_does(session, people):
    late_at_each_stage(session, people)
    now = clock.now()
    assert board_total(session) == 3
    assert dashboard.overdue_total(session) == 3  # was 1: only the reply clock was read
    per_unit = dashboard.overdue_now(session)
    board_rows = {r["unit"]["id"]: r["overdue"] for r in board.board(session, SYSTEM, now=now) if r["overdue"]}
    assert per_unit == board_rows == {people.unit_a: 2}  # the undispatched one has no unit yet
    rollups.rebuild(session)
    for raw in (False, True):
        assert dashboard.overview(session, raw=raw)["overdue_now"] == 3
        (row,) = [r for r in dashboard.deadlines_by_unit(session, now.date(), now.date(), raw=raw)
                  if r["unit_id"] == people.unit_a]
        assert row["overdue_now"] == 2


def test_a_ticket_overdue_at_two_stages_counts_once(session, people):
    clock.freeze(datetime(2026, 3, 2, 9, tzinfo=CST))
    t = make_ticket(session, people, Status.dispatched)
    clock.freeze(t.reply_due_at + H)  # past signing, contact and reply
    assert dashboard.overdue_total(session) == board_total(session) == 1
    assert dashboard.overdue_now(session) == {people.unit_a: 1}


def test_a_return_waiting_for_review_is_nobodys_overdue_until_it_is_rejected(session, people):
    """退单待审: the unit has handed the ticket back and the centre decides; no time limit governs
    that review. Past the reply deadline it counts as 超期 nowhere (board, towns, dashboard, wall,
    the 只看超期 list, the ticket's deadlines); rejected (驳回退单), a deadline already passed when
    the return was asked for counts again: the review's hour is given back, not the lateness."""
    clock.freeze(datetime(2026, 3, 2, 9, tzinfo=CST))
    returned = make_ticket(session, people, Status.accepted)
    clock.freeze(returned.reply_due_at + H)  # an hour late, the unit hands it back
    lifecycle.request_return(session, returned, actor=people.handler_a, reason="不属于本单位职责")
    clock.freeze(returned.reply_due_at + 2 * H)
    now = clock.now()
    assert sla.overdue_stages(returned, now) == [] and sla.stage_states(returned, now)["reply"]["state"] == "review"
    assert board_total(session) == dashboard.overdue_total(session) == 0
    assert dashboard.overdue_now(session) == {}
    assert [r["overdue"] for r in board.board(session, SYSTEM, now=now)] == [0]
    assert [r["overdue"] for r in board.by_township(session, SYSTEM, now=now)] == [0]
    assert queries.stats(session, SYSTEM)["overdue_total"] == 0
    assert board.awaiting_review(session, SYSTEM) == 1
    lifecycle.reject_return(session, returned, actor=people.dispatcher, reason="属于贵单位职责，请继续办理")
    session.flush()
    assert "reply" in sla.overdue_stages(returned, now)  # with 联系来电人, never recorded
    assert board_total(session) == dashboard.overdue_total(session) == 1
    assert dashboard.overdue_now(session) == {people.unit_a: 1}
    assert board.awaiting_review(session, SYSTEM) == 0


def test_the_reply_term_of_overdue_now_can_be_read_on_the_partial_index_of_running_replies(session, people):
    """The reply term of 当前超期 (``queries.stage_overdue("reply")``, as executed: the statuses
    written into the SQL) implies ``ix_tickets_open_reply_due``'s predicate (SQLite: INDEXED BY
    fails if it does not; PostgreSQL: the plan names the index when the other ways are priced out
    or gone)."""
    from sqlalchemy import select, text

    from hotline.tickets.models import Ticket

    stmt = select(Ticket.lead_unit_id).where(queries.stage_overdue("reply", clock.now()))
    compiled = stmt.compile(session.get_bind(), compile_kwargs={"render_postcompile": True})
    sql, params = str(compiled), compiled.params
    if session.get_bind().dialect.name == "sqlite":
        assert sql.count("FROM tickets \n") == 1
        sql = "EXPLAIN QUERY PLAN " + sql.replace("FROM tickets \n", "FROM tickets INDEXED BY ix_tickets_open_reply_due \n")
        params = {k: v.isoformat(" ") if isinstance(v, datetime) else v for k, v in params.items()}
        rows = session.connection().exec_driver_sql(sql, tuple(params[k] for k in compiled.positiontup))
    else:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("DROP INDEX ix_tickets_status_received"))  # rolled back below
        session.execute(text("DROP INDEX ix_tickets_reply_due"))
        rows = session.connection().exec_driver_sql("EXPLAIN " + sql, params)
    try:
        plan = " ".join(str(x) for r in rows for x in r)
    finally:
        session.rollback()
    assert "ix_tickets_open_reply_due" in plan
