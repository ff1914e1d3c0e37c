"""An imported letter received days ago keeps its 受理时间 as the citizen's date, but the centre's
clock starts when the ticket enters the system: 派单 is due as for a ticket registered at the import,
so it does not arrive in 当前超期 or on the overdue ladder."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.analytics import dashboard
from hotline.kit import clock
from hotline.supervision.sweep import sweep_deadlines
from hotline.tickets import sla
from hotline.tickets.models import Ticket
from tests.analytics.test_overdue import board_total
from tests.builders import make_ticket
from tests.importing.test_repeats import imported

CST = ZoneInfo("Asia/Shanghai")


def overdue(db) -> tuple[int, int]:
    """超期 on the supervision board, and 当前超期 on the dashboard."""
    with db.transaction(write=False) as s:
        return board_total(s), dashboard.overdue_total(s)


def test_a_letter_received_nine_days_ago_is_not_overdue_when_imported(db, people, session, tmp_path):
    clock.freeze(datetime(2026, 11, 27, 10, 0, tzinfo=CST))  # a Friday
    path = tmp_path / "letters.csv"
    path.write_text("诉求内容,发生地,事项分类,受理时间\n来信反映村口路灯不亮,裴介镇 朱吕村,0404,2026-11-18 09:30\n",
                    encoding="utf-8")
    result = imported(db, path, people.agent)
    assert result.ok, result.problems
    fresh = make_ticket(session, people, category_code="0404", urgency="normal", kind="help")  # registered by an agent at the same moment
    session.commit()
    now = clock.now()
    with db.transaction(write=False) as s:
        ticket = s.scalars(select(Ticket).where(Ticket.number == result.numbers[0])).one()
        assert clock.local(ticket.received_at) == datetime(2026, 11, 18, 9, 30, tzinfo=CST)  # the citizen's date
        assert ticket.number.startswith("20261118-")
        assert ticket.dispatch_due_at == s.get(Ticket, fresh.id).dispatch_due_at > now  # not 2026-11-19
        assert sla.stage_states(ticket, now)["dispatch"]["state"] == "running"
        assert ticket.watch_at > now  # nothing on the ladder is due
    assert overdue(db) == (0, 0)
    assert sweep_deadlines(db, worker="test")["steps"] == 0
    # A day and more later, with the letter still not dispatched, it is overdue like any other ticket.
    clock.freeze(datetime(2026, 11, 30, 18, 0, tzinfo=CST))
    assert overdue(db) == (2, 2) and sweep_deadlines(db, worker="test")["steps"] >= 2
    assert timedelta(0) < clock.now() - ticket.dispatch_due_at
