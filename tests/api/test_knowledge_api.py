"""The knowledge base through the API: what a WeChat bot or the city's app asks, answered as the
agent's intake page answers it; archived articles are out unless an admin asks for them."""

from __future__ import annotations

from hotline.directory import reference
from hotline.knowledge import service
from hotline.knowledge.seed import shipped
from hotline.web.routes.knowledge import suggested
from tests.knowledge.kb import article_id

ACTIVE = len(shipped())


def _title(key: str) -> str:
    return next(a["title"] for a in shipped() if a["key"] == key)


def test_a_callers_words_find_the_article_the_intake_page_offers(api, kb):
    agent = api.as_("agent")
    r = agent.get("/knowledge", params={"q": "社保卡丢了"})
    assert r.status_code == 200, r.text
    hits = r.json()
    assert hits[0]["title"] == _title("sbk-lost")
    assert "挂失" in hits[0]["snippet"] and "12333" in hits[0]["body"]
    assert hits[0]["categories"][0]["code"] == "0802" and hits[0]["categories"][0]["name"]
    assert hits[0]["active"] is True and hits[0]["score"] > 0
    assert int(r.headers["X-Total-Count"]) == len(hits) < ACTIVE  # every match, not every article
    # the same answers, in the same order, as the agent's knowledge panel shows for these words
    with kb.transaction(write=False) as s:
        panel = suggested(s, reference.snapshot(s), q="社保卡丢了")["hits"]
    assert [h["id"] for h in hits[:len(panel)]] == [h["id"] for h in panel]
    one = agent.get(f"/knowledge/{hits[0]['id']}")
    assert one.status_code == 200 and one.json()["body"] == hits[0]["body"] and one.json()["version"] >= 1


def test_a_category_ranks_its_articles_first_and_alone_lists_them(api, kb):
    agent = api.as_("agent")
    assert agent.get("/knowledge", params={"q": "补贴", "category_code": "1402"}).json()[0]["title"] == \
        _title("elderly-allowance")
    listed = agent.get("/knowledge", params={"category_code": "1003"}).json()
    assert {h["title"] for h in listed} >= {_title("yb-remote"), _title("yb-reimburse")}
    r = agent.get("/knowledge", params={"category_code": "9999"})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "category_code"


def test_an_archived_article_is_not_found_unless_an_admin_asks_for_it(api, kb):
    admin = api.as_("admin")
    with kb.transaction() as s:
        lost = article_id(s, "sbk-lost")
        service.archive(s, lost, actor=api.people.admin, expected_version=None)
    agent = api.as_("agent")
    hits = agent.get("/knowledge", params={"q": "社保卡丢了"}).json()
    assert lost not in [h["id"] for h in hits] and hits  # the other 社保卡 article still answers
    assert lost not in [h["id"] for h in agent.get("/knowledge", params={"limit": 100}).json()]
    r = agent.get(f"/knowledge/{lost}")
    assert r.status_code == 404 and "已停用" in r.json()["error"]["message"]
    assert admin.get(f"/knowledge/{lost}").status_code == 404  # an admin's bot does not read it out either
    # asked for explicitly: admins only
    refused = agent.get("/knowledge", params={"q": "社保卡丢了", "include_archived": True})
    assert refused.status_code == 403
    assert agent.get(f"/knowledge/{lost}", params={"include_archived": True}).status_code == 403
    found = admin.get("/knowledge", params={"q": "社保卡丢了", "include_archived": True}).json()
    assert found[0]["id"] == lost and found[0]["active"] is False
    one = admin.get(f"/knowledge/{lost}", params={"include_archived": True})
    assert one.status_code == 200 and one.json()["active"] is False
    every = admin.get("/knowledge", params={"include_archived": True, "limit": 100})
    assert int(every.headers["X-Total-Count"]) == ACTIVE == len(every.json())


def test_the_list_pages_and_says_its_total(api, kb):
    agent = api.as_("agent")
    whole = agent.get("/knowledge", params={"limit": 100})
    assert int(whole.headers["X-Total-Count"]) == ACTIVE == len(whole.json())  # no words: every active article
    every = [h["id"] for h in whole.json()]
    first, second = (agent.get("/knowledge", params={"page": n, "per_page": 10}) for n in (1, 2))
    assert [h["id"] for h in first.json()] == every[:10] and [h["id"] for h in second.json()] == every[10:20]
    assert int(second.headers["X-Total-Count"]) == ACTIVE
    assert [h["id"] for h in agent.get("/knowledge", params={"limit": 10}).json()] == every[:10]  # default page
    words = {"q": "补贴"}
    found = [h["id"] for h in agent.get("/knowledge", params=words | {"limit": 100}).json()]
    assert len(found) >= 3
    assert [h["id"] for h in agent.get("/knowledge", params=words | {"limit": 2, "offset": 1}).json()] == found[1:3]
    assert int(agent.get("/knowledge", params=words | {"limit": 1}).headers["X-Total-Count"]) == len(found)


def test_no_token_no_answer(api, kb):
    assert api.anonymous.get("/knowledge", params={"q": "社保卡"}).status_code == 401
    assert api.as_("agent").get("/knowledge/999999").status_code == 404
