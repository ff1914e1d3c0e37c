"""``hotline token``: tokens are created with a sane lifetime, listed without their secret, and
revoked by id, after which the API refuses them."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from hotline.api.app import create_app
from hotline.config import Settings
from hotline.kit import clock
from tests.cli.conftest import ok


def me(db, tmp_path, token: str) -> int:
    client = TestClient(create_app(Settings(data_dir=tmp_path, database_url=db.url), database=db))
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_days_must_be_one_to_ten_years_or_left_out(db, hotline, people):
    for days in ("0", "-5", "3651"):
        result = hotline("token", "create", "--user", people.agent.username, "--days", days)
        assert result.exit_code == 2, result.output
        assert f"错误：有效天数须为 1–3650 天（收到 {days}）；不填则永不过期" in result.output
    assert ok(hotline("token", "list")) == "没有令牌\n"  # none was made


def test_tokens_are_listed_without_their_secret_and_a_revoked_one_stops_working(db, hotline, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    k1 = ok(hotline("token", "create", "--user", people.agent.username, "--name", "partner-a", "--days", "30")).strip()
    k2 = ok(hotline("token", "create", "--user", people.agent.username, "--name", "partner-b")).strip()
    ok(hotline("token", "create", "--user", people.admin.username, "--name", "ops", "--days", "1"))
    clock.freeze(datetime(2026, 11, 29, 12, 0))  # the ops token has expired

    listed = ok(hotline("token", "list"))
    assert k1 not in listed and k2 not in listed and k1[:10] + "…" in listed
    lines = listed.splitlines()
    assert len(lines) == 4 and "用户" in lines[0]
    a, b, ops = lines[1:]
    assert people.agent.username in a and "partner-a" in a and "2026-12-28 10:00" in a and a.endswith("有效")
    assert "partner-b" in b and "永不过期" in b and b.endswith("有效")
    assert "ops" in ops and ops.endswith("已过期")
    assert len(ok(hotline("token", "list", "--user", people.agent.username)).splitlines()) == 3

    assert me(db, tmp_path, k1) == 200
    token_id = a.split()[0]
    out = ok(hotline("token", "revoke", token_id))
    assert out.startswith(f"已吊销令牌 {token_id}（{people.agent.username}，partner-a，{k1[:10]}…）")
    assert me(db, tmp_path, k1) == 401 and me(db, tmp_path, k2) == 200
    assert ok(hotline("token", "list", "--user", people.agent.username)).splitlines()[1].endswith("已吊销")

    result = hotline("token", "revoke", "99999")
    assert result.exit_code == 2 and "错误：令牌 99999 不存在" in result.output
    result = hotline("token", "list", "--user", "nobody")
    assert result.exit_code == 2 and "用户 nobody 不存在" in result.output
