"""Data scope and search: what each person finds when they look for tickets."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.accounts.scope import scope_for
from hotline.kit import clock
from hotline.kit.errors import Invalid, NotFound
from hotline.tickets import lifecycle as L
from hotline.tickets import queries
from hotline.tickets.queries import TicketFilter
from hotline.tickets.states import Status
from tests.builders import XIAXIAN, ZHULV, make_ticket, register

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 14, 9, 0, tzinfo=SH)
DONGYANGGUAN = "140426101201"  # 黎城县东阳关镇东阳关村
LICHENG = "140426"


@pytest.fixture(autouse=True)
def _monday_morning():
    clock.freeze(T0)


def ids(rows) -> set[int]:
    return {t.id for t in rows}


def listed(session, user, **filters) -> set[int]:
    rows, total = queries.list_tickets(session, scope_for(user), TicketFilter(**filters), per_page=200)
    assert total == len(rows)
    return ids(rows)


@pytest.fixture
def two_units(session, people):
    """A water ticket for unit A (with A's co-handler), a housing ticket for unit B, one not yet dispatched."""
    water = make_ticket(session, people, Status.in_progress)
    housing = register(session, people, category_code="0402", kind="help", urgency="normal",
                       content="村里老房子墙体开裂，下雨漏雨，担心倒塌", caller_confidential=True)
    L.dispatch(session, housing, actor=people.dispatcher, lead_unit_id=people.unit_b)
    fresh = make_ticket(session, people, Status.registered)
    session.commit()
    return water, housing, fresh


# ---------------------------------------------------------------- who sees what


def test_a_handler_lists_only_its_units_tickets(session, people, two_units):
    water, housing, fresh = two_units
    assert listed(session, people.handler_b) == {housing.id}
    assert listed(session, people.handler_a) == {water.id}
    assert listed(session, people.agent) == {water.id, housing.id, fresh.id}
    assert listed(session, people.supervisor) == {water.id, housing.id, fresh.id}


def test_another_units_ticket_is_not_found_by_id_or_number(session, people, two_units):
    water, _, _ = two_units
    scope = scope_for(people.handler_b)
    with pytest.raises(NotFound):
        queries.get_ticket(session, scope, water.id)
    with pytest.raises(NotFound):
        queries.get_ticket(session, scope, water.number)
    with pytest.raises(NotFound):
        queries.timeline(session, scope, water)
    assert queries.get_ticket(session, scope_for(people.handler_a), water.number).id == water.id


def test_stats_count_only_what_the_scope_sees(session, people, two_units):
    stats_b = queries.stats(session, scope_for(people.handler_b))
    assert stats_b["total"] == 1 and stats_b["by_status"] == {"dispatched": 1}
    assert list(stats_b["by_unit"]) == ["xiaxian-housing"]
    stats_all = queries.stats(session, scope_for(people.agent))
    assert stats_all["total"] == 3
    assert stats_all["by_status"] == {"in_progress": 1, "dispatched": 1, "registered": 1}


def test_a_co_handler_sees_the_ticket_and_its_timeline(session, people, two_units):
    water, _, _ = two_units
    scope = scope_for(people.handler_a_co)
    assert listed(session, people.handler_a_co) == {water.id}
    assert queries.get_ticket(session, scope, water.id).id == water.id
    actions = [e.action for e in queries.timeline(session, scope, water)]
    assert actions == ["register", "dispatch", "accept", "record_contact"]


def test_a_confidential_callers_identity_is_hidden_from_units_only(session, people, two_units):
    water, housing, _ = two_units
    assert not queries.caller_visible(scope_for(people.handler_b), housing)
    assert queries.caller_visible(scope_for(people.agent), housing)
    assert queries.caller_visible(scope_for(people.dispatcher), housing)
    assert queries.caller_visible(scope_for(people.handler_a), water)  # not confidential


def test_a_unit_loses_sight_of_a_ticket_redispatched_away(session, people):
    ticket = make_ticket(session, people, Status.return_requested)
    L.redispatch(session, ticket, actor=people.dispatcher, lead_unit_id=people.unit_b)
    session.commit()
    for gone in (people.handler_a, people.handler_a_co):
        assert listed(session, gone) == set()
        with pytest.raises(NotFound):
            queries.get_ticket(session, scope_for(gone), ticket.id)
        assert queries.stats(session, scope_for(gone))["total"] == 0
    assert listed(session, people.handler_b) == {ticket.id}
    # The unit filter follows the current parts too.
    assert listed(session, people.agent, unit_id=people.unit_a) == set()
    assert listed(session, people.agent, unit_id=people.unit_b) == {ticket.id}


# ---------------------------------------------------------------- filters


def test_filter_by_status_and_unit(session, people, two_units):
    water, housing, fresh = two_units
    agent = people.agent
    assert listed(session, agent, status=["registered"]) == {fresh.id}
    assert listed(session, agent, status=["registered", "dispatched"]) == {fresh.id, housing.id}
    assert listed(session, agent, unit_id=people.unit_a_co) == {water.id}  # co-handlers count
    assert listed(session, people.handler_a, status=["dispatched"]) == set()  # scope and filter combine
    with pytest.raises(Invalid):
        listed(session, agent, status=["lost"])


def test_a_county_code_finds_its_village_tickets(session, people):
    zhulv = register(session, people)
    licheng = register(session, people, region_code=DONGYANGGUAN)
    agent = people.agent
    assert listed(session, agent, region_code=XIAXIAN) == {zhulv.id}
    assert listed(session, agent, region_code=ZHULV) == {zhulv.id}
    assert listed(session, agent, region_code=LICHENG) == {licheng.id}
    assert listed(session, agent, region_code="14") == {zhulv.id, licheng.id}


def test_a_category_code_finds_its_subcategories(session, people):
    leak = register(session, people, category_code="0103")
    outage = register(session, people, category_code="0101")
    power = register(session, people, category_code="0201")
    agent = people.agent
    assert listed(session, agent, category_code="01") == {leak.id, outage.id}
    assert listed(session, agent, category_code="0103") == {leak.id}
    assert listed(session, agent, category_code="02") == {power.id}


def test_search_matches_chinese_substrings_and_all_terms(session, people):
    leak = register(session, people)  # 闸阀井漏水 ... 停水
    noise = register(session, people, category_code="0601", kind="complaint", urgency="normal",
                     content="晚上十点以后工地还在施工，噪音很大，影响休息", address="夏县瑶峰镇中心街")
    agent = people.agent
    assert listed(session, agent, q="漏水") == {leak.id}
    assert listed(session, agent, q="停水 闸阀") == {leak.id}
    assert listed(session, agent, q="停水 噪音") == set()  # every term must match
    assert listed(session, agent, q="瑶峰镇") == {noise.id}  # the address counts
    assert listed(session, agent, q=noise.number) == {noise.id}
    assert listed(session, agent, q="100%") == set()  # LIKE wildcards are literal


def test_filter_by_received_date_range(session, people):
    clock.freeze(datetime(2026, 9, 13, 23, 59, tzinfo=SH))
    sunday = register(session, people)
    clock.freeze(datetime(2026, 9, 14, 0, 0, tzinfo=SH))
    monday = register(session, people)
    clock.freeze(datetime(2026, 9, 15, 0, 0, tzinfo=SH))
    tuesday = register(session, people)
    agent = people.agent
    day = dict(received_from=datetime(2026, 9, 14, tzinfo=SH), received_to=datetime(2026, 9, 15, tzinfo=SH))
    assert listed(session, agent, **day) == {monday.id}  # from inclusive, to exclusive
    assert listed(session, agent, received_from=datetime(2026, 9, 14, tzinfo=SH)) == {monday.id, tuesday.id}
    assert listed(session, agent, received_to=datetime(2026, 9, 14, tzinfo=SH)) == {sunday.id}


def test_filter_overdue_at_the_right_minute(session, people):
    ticket = make_ticket(session, people, Status.dispatched)  # 2 hours to accept
    other = make_ticket(session, people, Status.in_progress)
    session.commit()
    due = ticket.accept_due_at
    agent = people.agent
    clock.freeze(due - timedelta(minutes=1))
    assert listed(session, agent, overdue=True) == set()
    assert queries.stats(session, scope_for(agent))["overdue_total"] == 0
    clock.freeze(due + timedelta(minutes=1))
    assert listed(session, agent, overdue=True) == {ticket.id}
    assert listed(session, agent, overdue=False) == {other.id}
    stats = queries.stats(session, scope_for(agent))
    assert stats["overdue_total"] == 1 and stats["overdue_by_stage"]["accept"] == 1


def test_a_suspended_ticket_is_not_overdue(session, people):
    ticket = make_ticket(session, people, Status.suspended)
    session.commit()
    clock.freeze(ticket.reply_due_at + timedelta(days=1))
    assert listed(session, people.agent, overdue=True) == set()


def test_pagination_reports_the_total_and_orders_newest_first(session, people):
    made = []
    for minute in range(7):
        clock.freeze(T0 + timedelta(minutes=minute))
        made.append(register(session, people))
    scope = scope_for(people.agent)
    page1, total1 = queries.list_tickets(session, scope, TicketFilter(), page=1, per_page=3)
    page3, total3 = queries.list_tickets(session, scope, TicketFilter(), page=3, per_page=3)
    assert total1 == total3 == 7
    assert [t.id for t in page1] == [t.id for t in reversed(made[-3:])]
    assert [t.id for t in page3] == [made[0].id]
    empty, total = queries.list_tickets(session, scope, TicketFilter(), page=4, per_page=3)
    assert empty == [] and total == 7
    filtered, total = queries.list_tickets(session, scope_for(people.handler_b), TicketFilter(), per_page=3)
    assert filtered == [] and total == 0
    with pytest.raises(Invalid):
        queries.list_tickets(session, scope, TicketFilter(), page=0)
    with pytest.raises(Invalid):
        queries.list_tickets(session, scope, TicketFilter(), per_page=queries.MAX_PAGE_SIZE + 1)
