"""Duplicates at intake: what the agent is offered for merging while a caller is on the line."""

from __future__ import annotations

from datetime import timedelta

from hotline.accounts.scope import scope_for
from hotline.assist import duplicates
from hotline.kit import clock
from hotline.tickets.states import Status
from tests.builders import ZHULV, make_ticket

DALV = "140828102201"  # 夏县裴介镇大吕村: another village of the same township
WUCUN = "140828101207"  # 夏县庙前镇吴村: another township
SCHOOL = "朱吕村小学从前天开始停水，学生没水洗手，厕所也冲不了，希望尽快恢复供水。"
CALL = "朱吕村东头那个阀门井一直往外冒水，供水站都停了，我们村和旁边村都没水了。"


def offered(session, user, text, *, region=ZHULV, category="0103"):
    return duplicates.find(session, scope_for(user), region_code=region, category_code=category, text=text,
                           now=clock.now())


def test_a_paraphrase_of_the_open_leak_offers_it_first_and_not_the_other_water_problem(session, people):
    leak = make_ticket(session, people, Status.dispatched)  # the east valve-well leak at 朱吕村
    school = make_ticket(session, people, Status.dispatched, content=SCHOOL, category_code="0103")
    session.commit()
    hits = offered(session, people.agent, CALL)
    assert hits and hits[0].ticket.id == leak.id
    assert "同村同类" in hits[0].reasons
    assert school.id not in [h.ticket.id for h in hits]  # same village, same category, another problem


def test_the_school_call_offers_the_school_ticket_and_never_the_leak(session, people):
    leak = make_ticket(session, people, Status.dispatched)
    school = make_ticket(session, people, Status.registered, content=SCHOOL, category_code="0101")
    session.commit()
    # The teacher's words share little with the school ticket but 朱吕村 and 小学 and 厕所; 停水 and
    # 自来水, which every 供水 ticket says, weigh little between two of them (the category factors).
    call = "我是朱吕村小学的老师，学校这两天一直没有自来水，孩子们上厕所都成问题。"
    hits = offered(session, people.agent, call, category="0101")
    assert [h.ticket.id for h in hits] == [school.id]
    assert leak.id not in [h.ticket.id for h in hits]


def test_words_every_ticket_of_a_category_says_weigh_little_within_it():
    outage = "朱吕村停水了，一直没有来水"
    other = "朱吕村小学停水，厕所冲不了"
    plain = duplicates.similarity(duplicates.vector(outage), other)
    within = duplicates.similarity(duplicates.vector(outage, "0101"), other, "0101")
    assert within < 0.7 * plain  # 停水 and 来水 are in most 停水 tickets: sharing them is no sign
    assert duplicates.vector(outage, "9999") == duplicates.vector(outage)  # a category the table lacks


def test_a_different_problem_in_the_same_village_and_category_is_not_offered(session, people):
    make_ticket(session, people, Status.dispatched)
    session.commit()
    assert offered(session, people.agent, "朱吕村北头新修的水泥路下面水管渗水，路面鼓起来一个包。") == []


def test_a_closed_ticket_is_not_offered(session, people):
    make_ticket(session, people, Status.closed)
    session.commit()
    assert offered(session, people.agent, CALL) == []


def test_the_same_township_is_searched_but_not_another_township(session, people):
    leak = make_ticket(session, people, Status.dispatched)
    session.commit()
    near = offered(session, people.agent, CALL, region=DALV)  # a caller of the next village
    assert [h.ticket.id for h in near] == [leak.id] and "同类" in near[0].reasons
    assert offered(session, people.agent, CALL, region=WUCUN) == []


def test_a_ticket_older_than_the_window_is_not_offered(session, people):
    leak = make_ticket(session, people, Status.dispatched)
    session.commit()
    later = clock.now() + timedelta(days=duplicates.WINDOW_DAYS + 1)
    assert duplicates.find(session, scope_for(people.agent), region_code=ZHULV, category_code="0103", text=CALL,
                           now=later) == []
    assert duplicates.find(session, scope_for(people.agent), region_code=ZHULV, category_code="0103", text=CALL,
                           now=clock.now())[0].ticket.id == leak.id


def test_a_handler_is_offered_only_tickets_of_its_own_unit(session, people):
    leak = make_ticket(session, people, Status.dispatched)  # lead 夏县水利局, co 朱吕集中供水站
    session.commit()
    assert [h.ticket.id for h in offered(session, people.handler_a, CALL)] == [leak.id]
    assert offered(session, people.handler_b, CALL) == []  # 住建局 has no part in it


def test_synonyms_are_one_word_before_scoring():
    assert duplicates.normalise("村里断水了，路灯坏了") == "村里停水了，路灯不亮"
    no_water, stopped = "朱吕村小学没水了", "朱吕村小学停水"
    assert duplicates.similarity(duplicates.vector(no_water), stopped) > 0.99


def test_the_candidates_can_be_chosen_on_the_partial_index_of_open_tickets(session, people):
    """The query's WHERE implies the index's predicate (SQLite: INDEXED BY fails if it does not;
    PostgreSQL: the plan names the index when scans of the table are priced out)."""
    from sqlalchemy import text

    stmt = duplicates.candidate_query(scope_for(people.agent), ZHULV, clock.now() - timedelta(days=30))
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    if session.get_bind().dialect.name == "sqlite":
        inner = "FROM tickets \nWHERE tickets.region_code >="
        assert sql.count(inner) == 1
        sql = "EXPLAIN QUERY PLAN " + sql.replace(inner, inner.replace("tickets ", "tickets INDEXED BY "
                                                                       "ix_tickets_open_region_received "))
    else:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("DROP INDEX ix_tickets_status_received"))  # rolled back below
        sql = "EXPLAIN " + sql
    try:
        plan = " ".join(str(x) for r in session.execute(text(sql)) for x in r)
    finally:
        session.rollback()
    assert "ix_tickets_open_region_received" in plan


def test_a_caller_in_their_own_words_is_offered_the_ticket_that_stands_out_among_the_villages_others(
        session, people):
    """Two callers of one outage share few characters (the score stays under the threshold), but
    their ticket stands out among the village's other open tickets, so it is offered alone."""
    outage = make_ticket(session, people, Status.dispatched, category_code="0101",
                         content="朱吕村已经停水三天了，也没有通知什么时候来水，村里老人只能去井里挑水。")
    make_ticket(session, people, Status.dispatched)  # the east valve-well leak, another water problem
    session.commit()
    call = "朱吕村连着三天没水了，也没人说啥时候恢复，吃水全靠去别的村拉。"
    hits = offered(session, people.agent, call, category="0101")
    assert [h.ticket.id for h in hits] == [outage.id]
    assert hits[0].score < duplicates.THRESHOLD  # offered as the clear best, not by the threshold


def test_the_clear_best_needs_a_lead_and_some_words_in_common():
    count = duplicates.offered_count
    assert count([(0.30, 0.2), (0.27, 0.2), (0.20, 0.1)]) == 2  # above the threshold: within the margin
    assert count([(0.20, 0.08), (0.12, 0.05)]) == 1  # below it: the best alone, well ahead of the next
    assert count([(0.20, 0.08), (0.18, 0.07)]) == 0  # two alike: neither stands out
    assert count([(0.17, 0.02)]) == 0  # only place, category and age in common
    assert count([(0.12, 0.1)]) == 0  # under the floor
    assert count([]) == 0
