"""系统管理 › 接口令牌: an admin issues an API token (shown once), sees the list without any token,
revokes one; bad input is refused with what was typed; other roles are refused. The browser test of
the same page is tests/web/test_browser_tokens.py."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from hotline.accounts.models import ApiToken
from hotline.accounts.service import create_token, set_active


def _secret(html: str) -> str:
    found = re.search(r'id="token-secret" readonly size="64" value="([^"]+)"', html)
    assert found, "no token on the page"
    return found.group(1)


def _count(site) -> int:
    with site.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(ApiToken))


def test_an_admin_issues_a_token_shown_once_that_opens_the_api_and_revokes_it(site):
    client, csrf = site.signed_in("admin")
    assert 'href="/admin/tokens"' in client.get("/admin").text  # in the menu and on the home page
    page = client.get("/admin/tokens")
    assert page.status_code == 200 and "签发令牌" in page.text and "还没有签发令牌" in page.text
    assert f'<option value="{site.people.agent.username}"' in page.text

    r = client.post(
        "/admin/tokens",
        data={"csrf": csrf, "user": site.people.agent.username, "name": " city-app ", "days": "30"},
    )
    assert r.status_code == 200, r.text
    assert "只显示一次，请立即复制" in r.text and r.headers["cache-control"] == "no-store"
    plain = _secret(r.text)
    api = site.browser()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.status_code == 200 and me.json()["username"] == site.people.agent.username

    listed = client.get("/admin/tokens").text
    row = re.search(r"<tr[^>]*>\s*<td>(\d+)</td>\s*<td>city-app</td>.*?</tr>", listed, re.S)
    assert row, listed
    assert (
        f"<code>{plain[:10]}…</code>" in row.group(0)
        and "有效" in row.group(0)
        and "永不过期" not in row.group(0)
    )
    assert plain not in listed and plain[:11] not in listed  # only the prefix, never the token

    token_id = row.group(1)
    r = client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf": csrf})
    assert r.status_code == 303
    assert (
        f"已吊销令牌 {token_id}（{site.people.agent.username}，city-app，{plain[:10]}…）"
        in client.get(r.headers["location"]).text
    )
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    row = re.search(
        r"<tr[^>]*>\s*<td>\d+</td>\s*<td>city-app</td>.*?</tr>", client.get("/admin/tokens").text, re.S
    )
    assert "已吊销" in row.group(0) and "/revoke" not in row.group(0)  # nothing left to revoke


def test_bad_input_is_refused_with_what_was_typed_and_no_token_is_issued(site):
    client, csrf = site.signed_in("admin")
    with site.db.transaction() as s:
        set_active(s, user_id=site.people.handler_b.id, active=False, by=site.people.admin)
    before = _count(site)
    agent = site.people.agent.username

    def refused(status: int, **form: str) -> str:
        r = client.post("/admin/tokens", data={"csrf": csrf, **form})
        assert r.status_code == status, r.text
        assert "只显示一次，请立即复制" not in r.text and 'id="token-secret"' not in r.text
        return r.text

    html = refused(422, user=agent, name="  ", days="7")
    assert "请填写令牌用途" in html and f'<option value="{agent}" selected' in html and 'value="7"' in html
    assert "有效天数须为整数（收到「abc」）" in refused(422, user=agent, name="city-app", days="abc")
    assert "有效天数须为 1–3650 天（收到 0）" in refused(422, user=agent, name="city-app", days="0")
    assert "令牌用途最多 80 个字" in refused(422, user=agent, name="长" * 81)
    assert "请选择令牌所属的账号" in refused(422, user="", name="city-app")
    assert "用户 nobody 不存在" in refused(404, user="nobody", name="city-app")
    stopped = site.people.handler_b.username
    assert (
        f'<option value="{stopped}"' not in client.get("/admin/tokens").text
    )  # a stopped account is not offered
    assert f"用户 {stopped} 已停用，不能为其签发令牌" in refused(422, user=stopped, name="city-app")
    r = client.post("/admin/tokens", data={"user": agent, "name": "city-app"})  # no CSRF token
    assert r.status_code == 403 and "页面已过期" in r.text
    assert _count(site) == before


def test_only_admins_reach_the_tokens_page(site):
    with site.db.transaction() as s:
        token_id = create_token(s, username=site.people.agent.username, name="city-app")[0].id
    for persona in ("agent", "dispatcher", "supervisor", "handler_a"):
        client, csrf = site.signed_in(persona)
        r = client.get("/admin/tokens")
        assert r.status_code == 403 and "只有管理员可以进入系统管理" in r.text and "city-app" not in r.text
        assert (
            client.post(
                "/admin/tokens", data={"csrf": csrf, "user": site.people.agent.username, "name": "mine"}
            ).status_code
            == 403
        )
        assert client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf": csrf}).status_code == 403
    with site.db.transaction(write=False) as s:
        assert (
            s.get(ApiToken, token_id).revoked_at is None
            and s.scalar(select(func.count()).select_from(ApiToken)) == 1
        )
    assert site.browser().get("/admin/tokens").headers["location"] == "/login?next=/admin/tokens"
