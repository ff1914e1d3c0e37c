"""三率 arithmetic on hand-built cases: what a unit's leader would check against the ticket list.

The shipped rules for urgent tickets: accept within 2 hours, first contact within 4 hours. Every
case is checked three ways: the hand-worked figure, the rollups, and the plain aggregate over the
raw tables.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.analytics import exclusions, rates, rollups
from hotline.directory import settings
from hotline.kit import clock
from hotline.kit.errors import Invalid, PermissionDenied
from hotline.tickets import lifecycle as L
from tests.builders import register

CST = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=CST)


def handled(session, p, *, accept_after=H, contact_after=2 * H, co=True, verdict=("satisfied", True),
            reply=True, **fields):
    """A ticket dispatched now to unit A (and its co-handler), accepted and contacted after the given
    delays, replied and called back with ``verdict`` (satisfaction, resolved); None stops earlier."""
    t = register(session, p, **fields)
    L.dispatch(session, t, actor=p.dispatcher, lead_unit_id=p.unit_a, co_unit_ids=[p.unit_a_co] if co else [])
    start = clock.now()
    if accept_after is not None:
        clock.freeze(start + accept_after)
        L.accept(session, t, actor=p.handler_a)
        if co:
            L.accept(session, t, actor=p.handler_a_co)
        if contact_after is not None:
            clock.freeze(start + contact_after)
            L.record_contact(session, t, actor=p.handler_a, note="已电话联系")
            if reply:
                clock.advance(H)
                L.reply(session, t, actor=p.handler_a, text="已处理完毕")
                L.accept_reply(session, t, actor=p.dispatcher)
                if verdict is not None:
                    clock.advance(H)
                    L.record_callback(session, t, actor=p.agent, reached=True, resolved=verdict[1],
                                      satisfaction=verdict[0])
    session.flush()
    clock.freeze(start)
    return t


def both(session, dimension, first, last, now=None):
    """Rollup figures after a rebuild, and the raw aggregate's, keyed by key."""
    rollups.rebuild(session, now=now)
    session.flush()
    a = {f.key: f for f in rates.table(session, dimension, first, last)}
    b = {f.key: f for f in rates.table(session, dimension, first, last, raw=True)}
    assert {k: f.counts for k, f in a.items()} == {k: f.counts for k, f in b.items()}
    return a


JAN = (date(2026, 1, 1), date(2026, 1, 31))


def test_response_resolution_satisfaction_and_score_of_a_unit(session, people):
    p = people
    clock.freeze(at(2026, 1, 12, 9))
    handled(session, p)  # on time; satisfied and resolved
    clock.freeze(at(2026, 1, 13, 9))
    handled(session, p, accept_after=3 * H, co=False, verdict=("basically_satisfied", False))  # signed late
    clock.freeze(at(2026, 1, 20))
    figs = both(session, "unit", *JAN)
    a = figs[str(p.unit_a)]
    assert (a.response_base, a.responded) == (2, 1)
    assert a.response_rate == pytest.approx(0.5)
    assert a.resolution_rate == pytest.approx(0.5)
    assert a.satisfaction_rate == pytest.approx(1.0)  # 基本满意 counts as satisfied by default
    assert a.score == pytest.approx(100 * (0.30 * 0.5 + 0.35 * 0.5 + 0.35 * 1.0))
    # The co-handler signed within the limit (1 hour): responded; callbacks are the lead's.
    co = figs[str(p.unit_a_co)]
    assert (co.response_base, co.responded, co.counts["evaluated"]) == (1, 1, 0)
    assert co.resolution_rate is None


def test_rules_change_the_figures_without_a_rebuild(session, people):
    p = people
    clock.freeze(at(2026, 1, 12, 9))
    handled(session, p, co=False, verdict=("basically_satisfied", True))
    clock.freeze(at(2026, 1, 20))
    rollups.rebuild(session)
    settings.set_value(session, "assessment.count_basically_satisfied", False)
    settings.set_value(session, "assessment.weight_response", 0.5)
    settings.set_value(session, "assessment.weight_resolution", 0.5)
    settings.set_value(session, "assessment.weight_satisfaction", 0.0)
    session.flush()
    from hotline.directory import reference
    reference.invalidate()
    a = {f.key: f for f in rates.table(session, "unit", *JAN)}[str(p.unit_a)]
    assert a.satisfaction_rate == 0.0
    assert a.score == pytest.approx(100.0)  # response 1.0 and resolution 1.0, satisfaction weighs nothing


def test_contact_late_means_not_responded_even_if_signed_in_time(session, people):
    p = people
    clock.freeze(at(2026, 1, 12, 9))
    handled(session, p, accept_after=H, contact_after=5 * H, co=False)
    clock.freeze(at(2026, 1, 20))
    a = both(session, "unit", *JAN)[str(p.unit_a)]
    assert (a.response_base, a.responded) == (1, 0)


def test_invalid_and_malicious_requests_and_merged_duplicates_do_not_count(session, people):
    p = people
    clock.freeze(at(2026, 1, 12, 9))
    handled(session, p, co=False)
    bad = handled(session, p, accept_after=5 * H, co=False, verdict=("dissatisfied", False))
    dup = register(session, p, caller_phone="13900000002")
    L.dispatch(session, dup, actor=p.dispatcher, lead_unit_id=p.unit_a)
    with pytest.raises(PermissionDenied):
        exclusions.exclude(session, bad, actor=p.handler_a, reason="malicious", note="x")
    with pytest.raises(Invalid):
        exclusions.exclude(session, bad, actor=p.supervisor, reason="malicious", note=" ")
    exclusions.exclude(session, bad, actor=p.supervisor, reason="malicious", note="来电人反复辱骂，经核实为恶意诉求")
    master = register(session, p, caller_phone="13900000003")
    L.dispatch(session, master, actor=p.dispatcher, lead_unit_id=p.unit_b)
    L.merge(session, dup, actor=p.dispatcher, master=master)
    session.flush()
    clock.freeze(at(2026, 1, 20))
    figs = both(session, "unit", *JAN)
    a = figs[str(p.unit_a)]
    # good only: the malicious one and the merged duplicate's order are gone.
    assert (a.response_base, a.responded, a.counts["evaluated"]) == (1, 1, 1)
    assert a.satisfaction_rate == 1.0
    # The timeline says why.
    from hotline.tickets.models import TicketEvent
    lines = session.query(TicketEvent).filter_by(ticket_id=bad.id, action="assessment").all()
    assert lines and "恶意" in lines[0].details["label"]
    # Undo: it counts again, after the refresh the worker runs.
    clock.freeze(at(2026, 1, 21))
    exclusions.include(session, bad, actor=p.supervisor, note="复核后认定为正常诉求")
    session.flush()
    rollups.refresh(session)
    a = {f.key: f for f in rates.table(session, "unit", *JAN)}[str(p.unit_a)]
    assert (a.response_base, a.responded, a.counts["evaluated"], a.counts["resolved"]) == (2, 1, 2, 1)


def test_approved_return_is_excluded_from_the_returning_unit_by_rule(session, people):
    p = people
    clock.freeze(at(2026, 1, 12, 9))
    t = register(session, p)
    L.dispatch(session, t, actor=p.dispatcher, lead_unit_id=p.unit_b)
    clock.advance(H)
    L.request_return(session, t, actor=p.handler_b, reason="供水不属于住建局职责")
    L.redispatch(session, t, actor=p.dispatcher, lead_unit_id=p.unit_a)
    clock.advance(H)
    L.accept(session, t, actor=p.handler_a)
    L.record_contact(session, t, actor=p.handler_a, note="已联系")
    session.flush()
    clock.freeze(at(2026, 1, 20))
    figs = both(session, "unit", *JAN)
    b, a = figs[str(p.unit_b)], figs[str(p.unit_a)]
    assert (b.counts["returned"], b.response_base, b.response_rate) == (1, 0, None)
    assert (a.response_base, a.responded) == (1, 1)
    settings.set_value(session, "assessment.exclude_approved_returns", False)
    session.flush()
    from hotline.directory import reference
    reference.invalidate()
    b = {f.key: f for f in rates.table(session, "unit", *JAN)}[str(p.unit_b)]
    assert (b.response_base, b.responded, b.response_rate) == (1, 0, 0.0)  # it never signed


def test_reopened_ticket_counts_each_round(session, people):
    p = people
    settings.set_value(session, "callback.reopen_on_negative", False)
    clock.freeze(at(2026, 1, 12, 9))
    t = handled(session, p, co=False, verdict=("dissatisfied", False))
    clock.freeze(at(2026, 1, 13, 9))
    L.reopen(session, t, actor=p.dispatcher, reason="来电人说水还是时有时无")
    clock.advance(H)
    L.accept(session, t, actor=p.handler_a)
    L.record_contact(session, t, actor=p.handler_a, note="再次联系")
    L.reply(session, t, actor=p.handler_a, text="更换了整段管道")
    L.accept_reply(session, t, actor=p.dispatcher)
    L.record_callback(session, t, actor=p.agent, reached=True, resolved=True, satisfaction="satisfied")
    session.flush()
    clock.freeze(at(2026, 1, 20))
    a = both(session, "unit", *JAN)[str(p.unit_a)]
    assert (a.response_base, a.responded) == (2, 2)  # two rounds, two orders
    assert (a.counts["evaluated"], a.counts["resolved"], a.counts["satisfied"]) == (2, 1, 1)
    assert a.satisfaction_rate == pytest.approx(0.5)


def test_a_ticket_spanning_two_months_counts_where_each_step_happened(session, people):
    p = people
    clock.freeze(at(2026, 1, 31, 20))  # dispatched on the evening of 31 January
    t = handled(session, p, co=False, reply=False)
    clock.freeze(at(2026, 2, 2, 10))
    L.reply(session, t, actor=p.handler_a, text="已修复")
    L.accept_reply(session, t, actor=p.dispatcher)
    L.record_callback(session, t, actor=p.agent, reached=True, resolved=True, satisfaction="satisfied")
    session.flush()
    clock.freeze(at(2026, 3, 1))
    rollups.rebuild(session)
    jan = {f.key: f for f in rates.monthly_ranking(session, "unit", 2026, 1)}[str(p.unit_a)]
    feb = {f.key: f for f in rates.monthly_ranking(session, "unit", 2026, 2)}[str(p.unit_a)]
    assert (jan.response_base, jan.counts["evaluated"]) == (1, 0)
    assert (feb.response_base, feb.counts["evaluated"], feb.satisfaction_rate) == (0, 1, 1.0)
    # 20:00 on 31 January in Beijing is 12:00 UTC: still January, whatever the server's clock says.
    settings.set_value(session, "assessment.period_start_day", 26)
    session.flush()
    from hotline.directory import reference
    reference.invalidate()
    assert rates.month_period(2026, 2, 26) == (date(2026, 1, 26), date(2026, 2, 25))
    feb26 = {f.key: f for f in rates.monthly_ranking(session, "unit", 2026, 2)}[str(p.unit_a)]
    assert (feb26.response_base, feb26.counts["evaluated"]) == (1, 1)  # both steps in 26 Jan – 25 Feb


def test_an_order_within_its_limit_is_pending_then_counts_once_the_limit_passes(session, people):
    p = people
    clock.freeze(at(2026, 1, 12, 9))
    handled(session, p, accept_after=None, co=False)
    clock.freeze(at(2026, 1, 12, 10))  # one hour in: the 2-hour accept limit is still running
    rollups.refresh(session)
    a = {f.key: f for f in rates.table(session, "unit", *JAN)}[str(p.unit_a)]
    assert (a.counts["orders"], a.counts["pending"], a.response_base, a.response_rate) == (1, 1, 0, None)
    clock.freeze(at(2026, 1, 12, 14))  # the limit passed; nothing happened to the ticket
    rollups.refresh(session)
    a = {f.key: f for f in rates.table(session, "unit", *JAN)}[str(p.unit_a)]
    assert (a.counts["pending"], a.response_base, a.response_rate) == (0, 1, 0.0)


def refreshed_figures(session, dimension="unit"):
    """The figures of January per key after a refresh of the rollups, checked equal to the raw aggregate's."""
    rollups.refresh(session)
    session.flush()
    a = {f.key: f for f in rates.table(session, dimension, *JAN)}
    b = {f.key: f for f in rates.table(session, dimension, *JAN, raw=True)}
    assert {k: f.counts for k, f in a.items()} == {k: f.counts for k, f in b.items()}
    return a


def test_a_rejected_return_gives_the_order_back_its_response_time(session, people):
    """驳回退单 gives the unit back the time its return waited for review, also in 响应率: between the
    old limit and the one moved later, an order not answered yet is still pending (not counted as
    missed), and signing and contacting the caller within the time given back is responding in
    time. Urgent: accept within 2 hours, first contact within 4."""
    from hotline.analytics import drill

    p = people
    clock.freeze(at(2026, 1, 12, 9))
    t = register(session, p)
    L.dispatch(session, t, actor=p.dispatcher, lead_unit_id=p.unit_a, co_unit_ids=[p.unit_a_co])
    clock.freeze(at(2026, 1, 12, 10))  # in time: accept due 11:00, contact 13:00
    L.request_return(session, t, actor=p.handler_a, reason="该村供水不归本站管理")
    clock.freeze(at(2026, 1, 12, 13))  # the return waited 3 hours for review
    L.reject_return(session, t, actor=p.dispatcher, reason="该村在本站供水范围内")
    session.flush()
    key = str(p.unit_a)

    def figures():
        return refreshed_figures(session)

    def total(measure, unit=key):
        return drill.tickets(session, dimension="unit", key=unit, measure=measure, first=JAN[0], last=JAN[1]).total

    clock.freeze(at(2026, 1, 12, 13, 30))  # past the old limits, within the ones given back (14:00, 16:00)
    rows = figures()
    for unit in (key, str(p.unit_a_co)):
        f = rows[unit]
        assert (f.counts["orders"], f.counts["pending"], f.response_base, f.response_rate) == (1, 1, 0, None)
        assert (total("pending", unit), total("not_responded", unit)) == (1, 0)
    clock.freeze(at(2026, 1, 12, 13, 50))
    L.accept(session, t, actor=p.handler_a)
    L.accept(session, t, actor=p.handler_a_co)
    clock.freeze(at(2026, 1, 12, 15))
    L.record_contact(session, t, actor=p.handler_a, note="已电话联系")
    session.flush()
    clock.freeze(at(2026, 1, 12, 17))
    rows = figures()
    for unit in (key, str(p.unit_a_co)):
        f = rows[unit]
        assert (f.counts["pending"], f.response_base, f.responded, f.response_rate) == (0, 1, 1, 1.0)
        assert (total("responded", unit), total("not_responded", unit)) == (1, 0)


def signed_at_ten(session, p):
    """An urgent ticket registered and dispatched to unit A on Mon 12 Jan 2026 at 09:00, signed at 10:00."""
    clock.freeze(at(2026, 1, 12, 9))
    t = register(session, p)
    L.dispatch(session, t, actor=p.dispatcher, lead_unit_id=p.unit_a)
    clock.freeze(at(2026, 1, 12, 10))
    L.accept(session, t, actor=p.handler_a)
    return t


def test_a_rejected_return_leaves_a_response_limit_already_missed_as_it_was(session, people):
    """Asked to return after the caller should have been contacted: the review gives nothing back,
    and the order counts as not responded as soon as the return is rejected."""
    p = people
    t = signed_at_ten(session, p)
    clock.freeze(at(2026, 1, 12, 13, 30))  # the 13:00 contact limit has passed
    L.request_return(session, t, actor=p.handler_a, reason="该村供水不归本站管理")
    clock.freeze(at(2026, 1, 12, 16))
    L.reject_return(session, t, actor=p.dispatcher, reason="该村在本站供水范围内")
    session.flush()
    assert clock.local(t.lead_task().response_due_at) == at(2026, 1, 12, 13)
    clock.freeze(at(2026, 1, 12, 16, 30))
    rollups.refresh(session)
    a = {f.key: f for f in rates.table(session, "unit", *JAN)}[str(p.unit_a)]
    assert (a.counts["pending"], a.response_base, a.response_rate) == (0, 1, 0.0)


def test_refresh_follows_changes_like_a_rebuild(session, people):
    p = people
    clock.freeze(at(2026, 1, 12, 9))
    t = handled(session, p, verdict=None)
    clock.freeze(at(2026, 1, 12, 23))
    rollups.refresh(session)  # first run: rebuild
    clock.freeze(at(2026, 1, 14, 9))
    L.record_callback(session, t, actor=p.agent, reached=True, resolved=True, satisfaction="satisfied")
    t.region_code = "140828102"  # re-located: the township only (裴介镇)
    clock.freeze(at(2026, 1, 14, 10))
    handled(session, p, region_code="140802001", co=False)  # another township (中城街道)
    session.flush()
    result = rollups.refresh(session)
    assert not result.rebuilt and result.days >= 2
    for dim in ("unit", "township", "category", "all"):
        fresh = {f.key: f.counts for f in rates.table(session, dim, *JAN)}
        raw = {f.key: f.counts for f in rates.table(session, dim, *JAN, raw=True)}
        assert fresh == raw, dim


def test_rankings_order_units_by_score_and_leave_small_ones_unranked(session, people):
    p = people
    settings.set_value(session, "assessment.min_orders_ranked", 2)
    from hotline.directory import reference
    reference.invalidate()
    clock.freeze(at(2026, 1, 5, 9))
    for _ in range(2):
        handled(session, p, co=False)  # unit A: perfect
        clock.advance(24 * H)
    t = register(session, p)
    L.dispatch(session, t, actor=p.dispatcher, lead_unit_id=p.unit_b)
    session.flush()
    clock.freeze(at(2026, 2, 1))
    rows = both(session, "unit", *JAN)
    ranking = rates.monthly_ranking(session, "unit", 2026, 1)
    assert ranking[0].key == str(p.unit_a) and ranking[0].rank == 1 and ranking[0].score == 100.0
    b = rows[str(p.unit_b)]
    assert b.rank is None and any("不参加排名" in n for n in b.notes)


def test_every_figure_opens_to_the_tickets_behind_it(session, people):
    from hotline.analytics import drill

    p = people
    clock.freeze(at(2026, 1, 12, 9))
    good = handled(session, p, co=False)
    late = handled(session, p, accept_after=3 * H, co=False, verdict=("dissatisfied", False))
    settings.set_value(session, "callback.reopen_on_negative", False)
    clock.freeze(at(2026, 1, 20))
    a = both(session, "unit", *JAN)[str(p.unit_a)]
    key = str(p.unit_a)

    def ids(measure):
        page = drill.tickets(session, dimension="unit", key=key, measure=measure, first=JAN[0], last=JAN[1])
        return page.total, set(page.ticket_ids)

    assert ids("response") == (a.response_base, {good.id, late.id})
    assert ids("responded") == (a.responded, {good.id})
    assert ids("not_responded") == (1, {late.id})
    assert ids("unresolved") == (1, {late.id})
    assert ids("satisfied") == (1, {good.id})
    assert ids("received")[1] == {good.id, late.id}
    assert drill.tickets(session, dimension="township", key="140828102", measure="evaluated",
                         first=JAN[0], last=JAN[1]).total == 2
    with pytest.raises(Invalid):
        drill.tickets(session, dimension="unit", key=key, measure="bogus", first=JAN[0], last=JAN[1])
    # pages of one: the same order as the whole list, the total on every page, also past the end
    whole = drill.tickets(session, dimension="unit", key=key, measure="response", first=JAN[0], last=JAN[1])
    pages = [drill.tickets(session, dimension="unit", key=key, measure="response", first=JAN[0], last=JAN[1],
                           limit=1, offset=n) for n in (0, 1, 2)]
    assert [pg.ticket_ids for pg in pages] == [whole.ticket_ids[:1], whole.ticket_ids[1:], []]
    assert [pg.total for pg in pages] == [2, 2, 2]
    assert drill.tickets(session, dimension="unit", key=key, measure="pending", first=JAN[0], last=JAN[1]).total == 0


def test_a_range_across_months_adds_month_rows_and_day_rows_like_the_raw_tables(session, people):
    from hotline.analytics import dashboard

    p = people
    for when in (at(2026, 1, 10, 9), at(2026, 1, 12, 9), at(2026, 2, 10, 9), at(2026, 3, 3, 9), at(2026, 3, 9, 9)):
        clock.freeze(when)
        handled(session, p, co=False)
    clock.freeze(at(2026, 4, 1))
    rollups.rebuild(session)
    first, last = date(2026, 1, 12), date(2026, 3, 5)  # part of January, all February, part of March
    rows = {f.key: f.counts for f in rates.table(session, "unit", first, last)}
    assert rows == {f.key: f.counts for f in rates.table(session, "unit", first, last, raw=True)}
    assert rows[str(p.unit_a)]["orders"] == 3  # 12 Jan, 10 Feb, 3 Mar
    assert dashboard.heat(session, first, last) == dashboard.heat(session, first, last, raw=True)
    assert sum(dashboard.by_county(session, first, last).values()) == 3
    # A letter received on 20 February and registered in April: the refresh re-sums February.
    clock.freeze(at(2026, 4, 2))
    register(session, p, channel="letter", received_at=at(2026, 2, 20, 9))
    session.flush()
    rollups.refresh(session)
    assert sum(dashboard.by_county(session, first, last).values()) == 4
    assert dashboard.volume(session, date(2026, 2, 20), date(2026, 2, 20))["2026-02-20"] == {"letter": 1}


def test_a_paused_ticket_gives_the_lead_back_its_response_time(session, people):
    """挂起 then 恢复 moves the first-contact deadline later by the pause, and the lead's 响应率 limit
    with it: past the old limit but within the moved one the order is still pending, and contacting
    the caller within it is responding in time. Urgent: first contact within 4 hours."""
    p = people
    t = signed_at_ten(session, p)
    clock.freeze(at(2026, 1, 12, 11))
    L.suspend(session, t, actor=p.handler_a, reason="来电人出差，下午回来")
    clock.freeze(at(2026, 1, 12, 14))  # paused 3 hours: contact due 13:00 → 16:00
    L.resume(session, t, actor=p.handler_a)
    session.flush()
    assert clock.local(t.contact_due_at) == at(2026, 1, 12, 16)
    key = str(p.unit_a)

    def figures():
        return refreshed_figures(session)[key]

    clock.freeze(at(2026, 1, 12, 15))
    f = figures()
    assert (f.counts["pending"], f.response_base, f.response_rate) == (1, 0, None)
    L.record_contact(session, t, actor=p.handler_a, note="已电话联系")
    session.flush()
    clock.freeze(at(2026, 1, 12, 17))
    f = figures()
    assert (f.counts["pending"], f.response_base, f.responded, f.response_rate) == (0, 1, 1, 1.0)
