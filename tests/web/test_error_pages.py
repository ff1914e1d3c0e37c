"""A mistyped page address gets a page a person can read, with a way back; the JSON API keeps
answering in JSON."""

from __future__ import annotations


def test_a_malformed_page_address_is_a_readable_page_not_json(site):
    agent, _ = site.signed_in("agent")
    r = agent.get("/knowledge/abc")
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "网址有误" in r.text and "编号不是数字" in r.text
    assert '{"error"' not in r.text
    assert '<a href="/">返回首页</a>' in r.text  # a way out


def test_an_unknown_page_is_a_readable_404(site):
    agent, _ = site.signed_in("agent")
    r = agent.get("/no-such-page")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "页面不存在" in r.text


def test_the_api_still_answers_in_json(site):
    client = site.browser()
    r = client.get("/api/v1/no-such-endpoint")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = client.get("/api/v1/knowledge/abc")
    assert r.status_code in (401, 404, 422)
    assert "error" in r.json()


BIG_ID = "99999999999999999999"


def test_an_id_no_row_can_have_is_a_readable_404_page(site):
    """A 20-digit id in a page address names nothing: a 404 page, not a 500 nor the API's JSON."""
    admin, csrf = site.signed_in("admin")
    pages = ["/analytics/hotspots/{id}", "/knowledge/{id}", "/admin/knowledge/{id}", "/employment/workers/{id}",
             "/employment/jobs/{id}", "/fieldwork/operations/{id}", "/fieldwork/tasks/{id}",
             f"/analytics/tickets?dimension=unit&key={BIG_ID}&measure=response&first=2026-11-01&last=2026-11-30"]
    forms = ["/incidents/{id}/confirm", "/incidents/{id}/dismiss", "/incidents/{id}/notice/withdraw",
             "/admin/users/{id}/active", "/admin/catalogue/{id}/delete", "/fieldwork/tasks/{id}/start",
             "/employment/jobs/{id}/state"]
    answers = [(p, admin.get(p.format(id=BIG_ID))) for p in pages]
    answers += [(p, admin.post(p.format(id=BIG_ID), data={"csrf": csrf, "reason": "x"})) for p in forms]
    for path, r in answers:
        assert r.status_code == 404, (path, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith("text/html"), path
        assert '{"error"' not in r.text and '<a href="/">返回首页</a>' in r.text, path
    # The API beside it answers in JSON.
    r = admin.post(f"/api/v1/incidents/{BIG_ID}/dismiss", json={"reason": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_a_fault_on_a_page_is_a_readable_page_not_json(site, monkeypatch):
    from fastapi.testclient import TestClient

    from hotline.analytics import dashboard

    def broken(_session):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(dashboard, "open_now", broken)
    signed, _ = site.signed_in("supervisor")
    client = TestClient(site.app, raise_server_exceptions=False, cookies=signed.cookies)
    r = client.get("/analytics")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "服务器内部错误" in r.text and '{"error"' not in r.text and "disk on fire" not in r.text
    r = client.get("/api/v1/analytics/overview")  # the API keeps its JSON (401 here: no token)
    assert r.headers["content-type"].startswith("application/json")


def test_the_ticket_list_ignores_filters_it_does_not_offer(site):
    agent, _ = site.signed_in("agent")
    for query in ("urgency=foo", "urgency=null", "channel=null", "kind=foo"):
        r = agent.get(f"/tickets?{query}")
        assert r.status_code == 200 and "工单查询" in r.text, query
