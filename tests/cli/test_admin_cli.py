"""``hotline outbox`` and ``hotline settings`` as an operator uses them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from hotline.kit import clock
from hotline.kit.db import Database
from hotline.notify.delivery import deliver_due
from hotline.notify.outbox import enqueue
from hotline.notify.templates import load_templates
from tests.cli.conftest import ok

NOON = datetime(2026, 11, 30, 12, 0)


class Broken:
    def send(self, message):
        raise ConnectionError("短信网关连接被拒绝：" + "网关返回了很长的错误说明，" * 10)


def _dead(db: Database, *phones: str) -> list[int]:
    """Receipt SMS to ``phones`` that the gateway refused until they were set aside."""
    clock.freeze(NOON)
    with db.transaction() as s:
        load_templates(s)
        ids = [enqueue(s, key=f"receipt-{p}", channel="sms", recipient=p, template_code="caller.receipt",
                       context={"ticket_number": "20261130-000042", "query_code": "482913"}).id for p in phones]
    deliver_due(db, Broken(), worker="w", max_attempts=1)
    return ids


def test_no_failed_messages_is_said_plainly(hotline):
    assert ok(hotline("outbox", "failed")).strip() == "没有发送失败的消息"
    assert json.loads(ok(hotline("outbox", "failed", "--json"))) == []


def test_failed_messages_are_listed_with_their_error_and_a_masked_number(hotline, db):
    [mid] = _dead(db, "+8613803590001")
    out = ok(hotline("outbox", "failed"))
    header, line = out.strip().splitlines()
    assert header.split("\t") == ["编号", "创建时间", "收件人", "模板", "尝试次数", "最后错误"]
    cells = line.split("\t")
    assert cells[:5] == [str(mid), "2026-11-30 12:00", "**********0001", "caller.receipt", "1"]
    assert cells[5].startswith("ConnectionError: 短信网关连接被拒绝") and cells[5].endswith("…")
    assert "13803590001" not in out

    [row] = json.loads(ok(hotline("outbox", "failed", "--json")))
    assert (row["id"], row["attempts"], row["recipient"]) == (mid, 1, "**********0001")
    assert row["last_error"].count("网关返回了很长的错误说明") == 10  # all of it, for scripts


def test_retry_puts_a_message_back_in_the_queue(hotline, db):
    first, second = _dead(db, "+8613803590001", "+8613803590002")
    assert ok(hotline("outbox", "retry", str(first))).strip() == "已重新排队 1 条消息"
    assert [r["id"] for r in json.loads(ok(hotline("outbox", "failed", "--json")))] == [second]

    result = hotline("outbox", "retry", str(first), "99999")
    assert result.exit_code == 2
    assert "编号 " in result.stderr and "99999" in result.stderr and "不是发送失败的消息" in result.stderr

    assert ok(hotline("outbox", "retry", "--all")).strip() == "已重新排队 1 条消息"
    assert ok(hotline("outbox", "failed")).strip() == "没有发送失败的消息"


@pytest.mark.parametrize("args", [(), ("1", "--all"), ("abc",), ("0",)])
def test_retry_needs_ids_or_all(hotline, args):
    result = hotline("outbox", "retry", *args)
    assert result.exit_code == 2 and result.stdout == ""


def test_settings_list_set_and_reset(hotline):
    out = ok(hotline("settings", "list"))
    assert "supervision.warn_share" in out and "到达时限的多少比例时预警" in out and "（默认 0.8）" in out

    out = ok(hotline("settings", "set", "supervision.warn_share", "0.75"))
    assert out.strip().startswith("已设置 supervision.warn_share = 0.75")
    line = next(s for s in ok(hotline("settings", "list")).splitlines() if s.startswith("supervision.warn_share"))
    assert "0.75*" in line
    ok(hotline("settings", "set", "callback.reopen_on_negative", "false"))

    rules = {r["key"]: r for r in json.loads(ok(hotline("settings", "list", "--json")))}
    assert rules["supervision.warn_share"]["value"] == 0.75 and rules["supervision.warn_share"]["customized"]
    assert rules["callback.reopen_on_negative"]["value"] is False

    assert ok(hotline("settings", "reset", "supervision.warn_share")).strip() == \
        "已恢复默认：supervision.warn_share = 0.8"
    rules = {r["key"]: r for r in json.loads(ok(hotline("settings", "list", "--json")))}
    assert (rules["supervision.warn_share"]["value"], rules["supervision.warn_share"]["customized"]) == (0.8, False)


def test_a_bad_setting_is_refused_and_nothing_changes(hotline):
    result = hotline("settings", "set", "callback.max_attempts", "99")
    assert result.exit_code == 2
    assert result.stderr.startswith("错误：") and "callback.max_attempts" in result.stderr and "1–10" in result.stderr
    result = hotline("settings", "set", "supervision.nap", "5")
    assert result.exit_code == 2 and "没有名为 supervision.nap 的规则" in result.stderr
    result = hotline("settings", "reset", "supervision.nap")
    assert result.exit_code == 2 and "没有名为 supervision.nap 的规则" in result.stderr
    rules = {r["key"]: r for r in json.loads(ok(hotline("settings", "list", "--json")))}
    assert rules["callback.max_attempts"]["value"] == 3 and not rules["callback.max_attempts"]["customized"]


def test_help_lists_the_new_commands(hotline):
    out = ok(hotline("--help"))
    assert "outbox" in out and "settings" in out
    assert "retry" in ok(hotline("outbox", "--help"))


def test_many_failed_messages_show_the_newest_and_count_them_all(hotline, db):
    """More failed messages than shown: the newest ``--limit`` are listed and the total counts all."""
    from datetime import UTC

    from tests.builders import make_failed_messages

    with db.transaction() as s:
        newest_first = make_failed_messages(s, 30, start=datetime(2026, 1, 10, tzinfo=UTC))
    result = hotline("outbox", "failed", "--limit", "12")
    assert result.exit_code == 0
    ids = [int(line.split("\t")[0]) for line in result.stdout.strip().splitlines()[1:]]
    assert ids == newest_first[:12]
    assert "共 30 条，显示最新 12 条" in result.stderr
    assert [r["id"] for r in json.loads(ok(hotline("outbox", "failed", "--json", "--limit", "5")))] == newest_first[:5]
    everything = hotline("outbox", "failed")
    assert len(everything.stdout.strip().splitlines()) == 31 and "共 30 条；" in everything.stderr
    assert hotline("outbox", "failed", "--limit", "0").exit_code == 2
