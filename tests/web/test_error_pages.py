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


def test_the_ticket_list_ignores_filters_it_does_not_offer(site):
    agent, _ = site.signed_in("agent")
    for query in ("urgency=foo", "urgency=null", "channel=null", "kind=foo"):
        r = agent.get(f"/tickets?{query}")
        assert r.status_code == 200 and "工单查询" in r.text, query
