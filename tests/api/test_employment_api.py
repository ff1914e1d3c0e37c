"""Employment JSON endpoints: the ledger, jobs with candidates and the full-employment figures,
each within the caller's scope; ID numbers masked; outsiders refused."""

from __future__ import annotations

from datetime import datetime

import pytest

from hotline.accounts.service import create_token
from hotline.employment import service
from hotline.employment.scope import EVERYWHERE
from hotline.kit import clock
from tests.api.conftest import Caller
from tests.employment.conftest import DALV, SHUITOU, ZHULV, Staff, id_number, make_staff, make_worker


@pytest.fixture
def staff(session, people) -> Staff:
    return make_staff(session, people)


def _caller(api, session, user) -> Caller:
    token = create_token(session, username=user.username, name="test")[1]
    session.commit()
    return Caller(api.client, token)


def test_the_ledger_is_read_within_scope_with_masked_id_numbers(api, session, staff):
    number = id_number("19750312", "131")
    zhulv = make_worker(session, ZHULV, name="张麦环", id_number=number)
    make_worker(session, DALV, name="李秀英", employment_status="稳定就业")
    make_worker(session, SHUITOU, name="水头人")
    session.commit()
    township = _caller(api, session, staff.township)
    r = township.get("/employment/workers")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2 and {w["name"] for w in body["items"]} == {"张麦环", "李秀英"}
    one = township.get(f"/employment/workers/{zhulv.id}").json()
    assert one["id_number_masked"] == number[:4] + "*" * 10 + number[-4:] and number not in str(one)
    assert one["village"]["name"] == "夏县裴介镇朱吕村"
    employed = township.get("/employment/workers", params={"group": "employed"}).json()
    assert [w["name"] for w in employed["items"]] == ["李秀英"]
    assert township.get("/employment/workers", params={"group": "nobody"}).status_code == 422
    village = _caller(api, session, staff.village)
    assert village.get(f"/employment/workers/{zhulv.id}").status_code == 200
    shuitou = _caller(api, session, staff.bureau).get("/employment/workers", params={"village_code": SHUITOU}).json()
    assert [w["name"] for w in shuitou["items"]] == ["水头人"]
    assert village.get("/employment/workers", params={"village_code": SHUITOU}).json()["total"] == 0


def test_outsiders_are_refused(api, session, staff):
    r = api.as_("handler_a").get("/employment/workers")
    assert r.status_code == 403 and r.json()["error"]["code"] == "employment_forbidden"
    assert api.as_("agent").get("/employment/villages").status_code == 403
    assert api.anonymous.get("/employment/jobs").status_code == 401


def test_jobs_candidates_and_villages(api, session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    make_worker(session, DALV, name="同镇", employment_status="未就业")
    make_worker(session, ZHULV, name="同村", employment_status="灵活就业")
    job = service.add_job(session, EVERYWHERE, actor=None, employer="朱吕村扶贫车间", workshop=True, region_code=ZHULV,
                          title="手工编织", openings=8, pay="计件")
    session.commit()
    admin = api.as_("admin")
    jobs = admin.get("/employment/jobs").json()
    assert [(j["employer"], j["workshop"], j["pay"], j["hired"]) for j in jobs] == [("朱吕村扶贫车间", True, "计件", 0)]
    found = admin.get(f"/employment/jobs/{job.id}/candidates").json()
    assert [(c["name"], c["distance_label"]) for c in found] == [("同村", "同村"), ("同镇", "同乡镇")]
    figures = {v["village"]["name"]: v for v in admin.get("/employment/villages").json()}
    assert set(figures) == {"朱吕村", "大吕村", "水头村"}
    zhulv = figures["朱吕村"]
    assert (zhulv["labour_force"], zhulv["employed"], zhulv["employment_rate"], zhulv["meets"]) == (1, 1, 1.0, False)
    assert len(zhulv["missing"]) == 6 and zhulv["six_ones"]["training"] == 0
    assert admin.get("/employment/jobs/999999/candidates").status_code == 404
    service.add_activity(session, EVERYWHERE, actor=None, village_code=DALV, kind="job_fair", title="家门口招聘会",
                         participants=30)
    session.commit()
    township = _caller(api, session, staff.township)
    assert [(a["village"]["name"], a["kind_label"], a["participants"]) for a in
            township.get("/employment/activities").json()] == [("夏县裴介镇大吕村", "招聘会", 30)]
    assert _caller(api, session, staff.village).get("/employment/activities").json() == []
    spec = api.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/employment/villages" in spec["paths"]


def test_a_job_posted_for_a_whole_city_names_the_city(api, session, staff):
    """The page showed 运城市 while the API gave an empty name for the same job."""
    job = service.add_job(session, EVERYWHERE, actor=None, employer="运城市某机械厂", region_code="1408",
                          title="机修工", openings=2, pay="4000元/月")
    session.commit()
    admin = api.as_("admin")
    assert admin.get(f"/employment/jobs/{job.id}").json()["place"] == {"code": "1408", "name": "运城市"}
    assert [j["place"] for j in admin.get("/employment/jobs").json()] == [{"code": "1408", "name": "运城市"}]


def test_a_whole_id_number_finds_the_person_within_scope_and_a_part_of_one_finds_nobody(api, session, staff):
    from tests.employment.test_id_search import number_ending_in_x
    number, x_number = id_number("19750312", "131"), number_ending_in_x()
    make_worker(session, ZHULV, name="张麦环", id_number=number)
    make_worker(session, DALV, name="李秀英", id_number=x_number)
    make_worker(session, SHUITOU, name="水头人", id_number=id_number("19800101", "242"))
    session.commit()
    township = _caller(api, session, staff.township)

    def names(q: str, caller: Caller = township) -> list[str]:
        r = caller.get("/employment/workers", params={"q": q})
        assert r.status_code == 200 and q.strip().upper() not in r.text  # only ever masked
        return [w["name"] for w in r.json()["items"]]

    assert names(number) == ["张麦环"]
    assert names(x_number[:17] + "x") == ["李秀英"] and names(f" {x_number} ") == ["李秀英"]
    assert names(number[:17]) == names(number[:6]) == names(number[-6:]) == []
    assert names(id_number("19800101", "242")) == []  # 水头镇 is not the township's
    assert names(id_number("19800101", "242"), _caller(api, session, staff.bureau)) == ["水头人"]
    assert names(number, _caller(api, session, staff.village)) == ["张麦环"]
    assert names(x_number, _caller(api, session, staff.village)) == []  # 大吕村 is not 朱吕村's


def test_a_person_is_looked_up_by_id_number_in_a_post_body_kept_out_of_the_address(api, session, staff):
    number = id_number("19750312", "131")
    make_worker(session, ZHULV, name="张麦环", id_number=number)
    make_worker(session, SHUITOU, name="水头人", id_number=id_number("19800101", "242"))
    session.commit()
    township = _caller(api, session, staff.township)
    r = township.post("/employment/workers/search", json={"q": number})
    assert r.status_code == 200 and [w["name"] for w in r.json()["items"]] == ["张麦环"]
    assert number not in r.text and r.json()["items"][0]["id_number_masked"].startswith(number[:4])
    part = township.post("/employment/workers/search", json={"q": number[:10]})
    assert part.status_code == 200 and part.json()["total"] == 0
    outside = township.post("/employment/workers/search", json={"q": id_number("19800101", "242")})
    assert outside.json()["total"] == 0  # 水头镇 is not the township's
    # The other filters work as on GET, and a bad one is refused by name.
    assert township.post("/employment/workers/search", json={"village_code": ZHULV}).json()["total"] == 1
    bad = township.post("/employment/workers/search", json={"group": "nobody"})
    assert bad.status_code == 422 and "未知分组" in bad.text
    assert township.post("/employment/workers/search", json={"per_page": 0}).status_code == 422
    spec = api.client.get("/api/v1/openapi.json").json()
    assert "post" in spec["paths"]["/api/v1/employment/workers/search"]
