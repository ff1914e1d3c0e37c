"""Who sees and edits which ledger: village, township, county bureau, supervisor, admin, others."""

from __future__ import annotations

import pytest

from hotline.employment import queries, service, standard
from hotline.employment.queries import WorkerFilter
from hotline.kit.errors import NotFound, PermissionDenied
from tests.employment.conftest import DALV, SHUITOU, ZHULV, fields, make_worker, scope_of


def _seen(session, user) -> set[str]:
    rows, _total = queries.list_workers(session, scope_of(session, user), WorkerFilter())
    return {w.name for w in rows}


def test_each_handler_sees_the_ledger_of_their_region_only(session, staff):
    zhulv, dalv, shuitou = (make_worker(session, v, name=n) for v, n in ((ZHULV, "朱吕甲"), (DALV, "大吕乙"),
                                                                         (SHUITOU, "水头丙")))
    assert _seen(session, staff.village) == {"朱吕甲"}
    assert _seen(session, staff.township) == {"朱吕甲", "大吕乙"}
    assert _seen(session, staff.bureau) == _seen(session, staff.supervisor) == _seen(session, staff.admin) == {
        "朱吕甲", "大吕乙", "水头丙"}
    assert _seen(session, staff.other) == set()
    with pytest.raises(NotFound):
        queries.get_worker(session, scope_of(session, staff.village), dalv.id)
    assert queries.get_worker(session, scope_of(session, staff.township), dalv.id) is dalv
    assert [v.village for v in standard.villages(session, scope_of(session, staff.township))] == ["大吕村", "朱吕村"]
    assert not scope_of(session, staff.other).has_access
    assert zhulv and shuitou


def test_edits_outside_the_region_or_by_a_reader_are_refused(session, staff):
    dalv = make_worker(session, DALV)
    village = scope_of(session, staff.village)
    with pytest.raises(PermissionDenied):
        service.add_worker(session, village, actor=staff.village, village_code=DALV, fields=fields())
    with pytest.raises(PermissionDenied):
        service.record_assistance(session, village, dalv, actor=staff.village, kind="guidance", note="指导")
    with pytest.raises(PermissionDenied):  # moving someone of one's own village elsewhere
        service.update_worker(session, village, make_worker(session, ZHULV, name="李四"), actor=staff.village,
                              fields={}, village_code=DALV)
    with pytest.raises(PermissionDenied) as read_only:
        service.record_assistance(session, scope_of(session, staff.supervisor), dalv, actor=staff.supervisor,
                                  kind="guidance", note="指导")
    assert "不能修改" in read_only.value.message
    with pytest.raises(PermissionDenied):
        service.add_job(session, village, actor=staff.village, employer="某厂", region_code=SHUITOU, title="普工",
                        openings=1, pay="面议")
    service.record_assistance(session, scope_of(session, staff.bureau), dalv, actor=staff.bureau, kind="policy",
                              note="宣讲稳岗补贴政策")
