"""The unit's own clocks are decided twice: in SQL (``queries.part_running``: the inbox's sections and
order) and in Python (``unit.part_clocks``: the row's countdown). Over every combination of ticket
status, the unit's task status and role, the caller contacted or not and each due time set or not,
both must name the same running clocks; otherwise a row would sit in 已超期 while its countdown says
剩余, or the other way round."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, case, select, update

from hotline.tickets import queries
from hotline.tickets.models import Ticket, TicketUnit, UnitRole, UnitTaskStatus
from hotline.tickets.states import Status
from hotline.web.routes.unit import part_clocks
from tests.builders import make_ticket

T = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
due = st.one_of(st.none(), st.integers(-48, 48).map(lambda h: T + timedelta(hours=h)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    status=st.sampled_from(list(Status)),
    task_status=st.sampled_from(list(UnitTaskStatus)),
    role=st.sampled_from(list(UnitRole)),
    contacted=st.booleans(),
    accept_due=due, contact_due=due, reply_due=due,
)
def test_sql_and_python_name_the_same_running_clocks(session, people, status, task_status, role, contacted,
                                                     accept_due, contact_due, reply_due):
    ticket = make_ticket(session, people, Status.dispatched)
    session.commit()
    session.execute(update(Ticket).where(Ticket.id == ticket.id).values(
        status=status, contacted_at=T if contacted else None,
        accept_due_at=accept_due, contact_due_at=contact_due, reply_due_at=reply_due))
    task_id = min(part.id for part in ticket.units)
    session.execute(update(TicketUnit).where(TicketUnit.id == task_id).values(status=task_status, role=role))
    task = queries._TASK
    running = queries.part_running(task)
    due_col = {s: getattr(Ticket, f"{s}_due_at") for s in queries.PART_STAGES}
    row = session.execute(
        select(*queries.INBOX_COLUMNS,
               *(case((and_(running[s], due_col[s].is_not(None)), True), else_=False).label(f"sql_{s}")
                 for s in queries.PART_STAGES))
        .join(task, and_(task.ticket_id == Ticket.id, task.id == task_id))
        .where(Ticket.id == ticket.id)
    ).one()
    in_sql = [s for s in queries.PART_STAGES if getattr(row, f"sql_{s}")]
    in_python = list(part_clocks(row))
    session.rollback()
    assert in_python == in_sql, (status, task_status, role, contacted)
    if status == Status.suspended:
        assert in_python == []
