"""Unit suggestion: the catalogue first, then the units that resolved similar tickets, then 兜底."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.assist.units import suggest_unit
from hotline.kit import clock
from hotline.tickets import lifecycle as L
from tests.builders import ZHULV, make_personas, register, unit_id

NOW = datetime(2026, 11, 18, 2, 30, tzinfo=UTC)
OTHER = "9901"  # 其他事项: the catalogue has no rule for it in 夏县, the county government takes it


def _resolved_by(s, p, lead: int, handler, *, at: datetime, region: str = ZHULV, returned_by=None,
                 category: str = OTHER):
    """A ticket of ``category`` brought to an accepted reply by ``lead`` (after a return by
    ``returned_by`` and a redispatch, when given)."""
    clock.freeze(at)
    t = register(s, p, category_code=category, region_code=region, received_at=at)
    if returned_by is not None:
        first, first_handler = returned_by
        L.dispatch(s, t, actor=p.dispatcher, lead_unit_id=first)
        L.accept(s, t, actor=first_handler)
        L.request_return(s, t, actor=first_handler, reason="不属于本单位职责")
        L.redispatch(s, t, actor=p.dispatcher, lead_unit_id=lead, note="改派属地")
    else:
        L.dispatch(s, t, actor=p.dispatcher, lead_unit_id=lead)
    L.accept(s, t, actor=handler)
    L.record_contact(s, t, actor=handler, note="已电话联系来电人")
    L.reply(s, t, actor=handler, text="已现场处理完毕")
    L.accept_reply(s, t, actor=p.dispatcher)
    s.flush()
    clock.freeze(None)
    return t


def test_the_catalogue_wins_when_it_has_a_rule(db):
    with db.transaction() as s:
        p = make_personas(s)
        # History says the housing bureau, but the catalogue has a rule for leaks at 朱吕村.
        for i in range(3):
            _resolved_by(s, p, p.unit_b, p.handler_b, at=NOW - timedelta(days=5 + i), category="0103")
        got = suggest_unit(s, category_code="0103", region_code=ZHULV, now=NOW)
    assert got.source == "catalogue"
    assert got.lead_unit_id == p.unit_a  # 夏县水利局
    assert p.unit_a_co in got.co_unit_ids
    assert "派单目录" in got.reason


def test_without_a_rule_history_picks_the_unit_that_resolved_similar_tickets(db):
    with db.transaction() as s:
        p = make_personas(s)
        for i in range(3):
            _resolved_by(s, p, p.unit_b, p.handler_b, at=NOW - timedelta(days=3 + i))
        _resolved_by(s, p, p.unit_a, p.handler_a, at=NOW - timedelta(days=2))
        got = suggest_unit(s, category_code=OTHER, region_code=ZHULV, now=NOW)
    assert got.source == "history"
    assert got.lead_unit_id == p.unit_b
    assert got.evidence == 3
    assert "未退单" in got.reason and 0 < got.confidence < 1


def test_a_returned_tickets_first_unit_is_not_learned_but_the_one_it_went_to_is(db):
    with db.transaction() as s:
        p = make_personas(s)
        for i in range(2):
            _resolved_by(s, p, p.unit_b, p.handler_b, at=NOW - timedelta(days=3 + i),
                         returned_by=(p.unit_a, p.handler_a))
        got = suggest_unit(s, category_code=OTHER, region_code=ZHULV, now=NOW)
    assert got.source == "history"
    assert got.lead_unit_id == p.unit_b


def test_a_unit_that_asked_to_return_the_ticket_is_not_learned_even_when_it_had_to_keep_it(db):
    with db.transaction() as s:
        p = make_personas(s)
        clock.freeze(NOW - timedelta(days=3))
        t = register(s, p, category_code=OTHER, received_at=NOW - timedelta(days=3))
        L.dispatch(s, t, actor=p.dispatcher, lead_unit_id=p.unit_b)
        L.accept(s, t, actor=p.handler_b)
        L.request_return(s, t, actor=p.handler_b, reason="不属于本单位职责")
        L.reject_return(s, t, actor=p.dispatcher, reason="属于本单位职责，请继续办理")
        L.record_contact(s, t, actor=p.handler_b, note="已联系")
        L.reply(s, t, actor=p.handler_b, text="已处理")
        L.accept_reply(s, t, actor=p.dispatcher)
        clock.freeze(None)
        got = suggest_unit(s, category_code=OTHER, region_code=ZHULV, now=NOW)
        gov = unit_id(s, "xiaxian-gov")
    assert got.source == "fallback"
    assert got.lead_unit_id == gov != p.unit_b


def test_history_never_looks_at_tickets_received_after_now(db):
    with db.transaction() as s:
        p = make_personas(s)
        _resolved_by(s, p, p.unit_b, p.handler_b, at=NOW - timedelta(days=1))
        before = suggest_unit(s, category_code=OTHER, region_code=ZHULV, now=NOW - timedelta(days=2))
        after = suggest_unit(s, category_code=OTHER, region_code=ZHULV, now=NOW)
    assert before.source == "fallback" and before.lead_unit_id != p.unit_b
    assert after.source == "history" and after.lead_unit_id == p.unit_b


def test_fallback_is_the_county_government_with_a_chinese_reason(db):
    with db.transaction() as s:
        make_personas(s)
        got = suggest_unit(s, category_code=OTHER, region_code=ZHULV, now=NOW)
        gov = unit_id(s, "xiaxian-gov")  # 夏县人民政府
    assert got.source == "fallback"
    assert got.lead_unit_id == gov and got.co_unit_ids == []
    assert "兜底" in got.reason


def test_a_catalogue_row_its_unit_keeps_returning_gives_way_to_the_unit_that_resolves_them(db):
    """Duties moved (朱吕村's leaks now go to the housing bureau) but the catalogue still names the
    water bureau: after three returns re-dispatched to the housing bureau, it is suggested."""
    with db.transaction() as s:
        p = make_personas(s)
        moved = dict(category="0103", returned_by=(p.unit_a, p.handler_a))
        for i in range(2):
            _resolved_by(s, p, p.unit_b, p.handler_b, at=NOW - timedelta(days=10 - i), **moved)
        assert suggest_unit(s, category_code="0103", region_code=ZHULV, now=NOW).source == "catalogue"
        # A third return, from another village of the same township (裴介镇大吕村): the row is stale.
        _resolved_by(s, p, p.unit_b, p.handler_b, at=NOW - timedelta(days=5), region="140828102201", **moved)
        got = suggest_unit(s, category_code="0103", region_code=ZHULV, now=NOW)
        # Another township (瑶峰镇) has no such history: the catalogue still holds there.
        elsewhere = suggest_unit(s, category_code="0103", region_code="140828100", now=NOW)
    assert got.source == "history" and got.lead_unit_id == p.unit_b and got.co_unit_ids == []
    assert "派单目录" in got.reason and "退回" in got.reason and "3件" in got.reason
    assert got.evidence == 3 and 0 < got.confidence < 1
    assert elsewhere.source == "catalogue"


def test_the_row_holds_while_its_unit_resolves_more_than_the_other_one(db):
    with db.transaction() as s:
        p = make_personas(s)
        for i in range(3):
            _resolved_by(s, p, p.unit_b, p.handler_b, at=NOW - timedelta(days=20 - i), category="0103",
                         returned_by=(p.unit_a, p.handler_a))
        for i in range(4):  # the water bureau resolved more of them itself: the returns were the exception
            _resolved_by(s, p, p.unit_a, p.handler_a, at=NOW - timedelta(days=10 - i), category="0103")
        got = suggest_unit(s, category_code="0103", region_code=ZHULV, now=NOW)
        # … and history never looks past ``now``: before the returns, nothing to go on.
        before = suggest_unit(s, category_code="0103", region_code=ZHULV, now=NOW - timedelta(days=25))
    assert got.source == "catalogue" and got.lead_unit_id == p.unit_a
    assert before.source == "catalogue"
