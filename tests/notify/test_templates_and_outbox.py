"""What a caller or a unit receives, and when: templates, idempotency keys, quiet hours."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from hotline.kit import clock
from hotline.kit.errors import Invalid
from hotline.notify.models import MessageTemplate, OutboxMessage
from hotline.notify.outbox import enqueue
from hotline.notify.templates import load_templates, render, shipped_templates

RECEIPT = {"ticket_number": "20261128-000123", "query_code": "482913"}


def _local(msg: OutboxMessage) -> datetime:
    return clock.local(msg.not_before).replace(tzinfo=None)


def test_every_template_the_workflows_need_is_shipped():
    codes = {row["code"] for row in shipped_templates()}
    assert {"caller.receipt", "caller.dispatched", "caller.reply", "caller.closed", "caller.callback",
            "unit.dispatch", "unit.warning", "unit.overdue", "unit.supervision", "unit.reopened"} <= codes


def test_receipt_sms_carries_the_ticket_number_and_the_query_code(tdb):
    with tdb.transaction() as s:
        msg = enqueue(s, key="t1:receipt", channel="sms", recipient="+8613803590001",
                      template_code="caller.receipt", context=RECEIPT)
    assert msg is not None
    assert "20261128-000123" in msg.body and "482913" in msg.body
    assert msg.body.startswith("【12345】") and msg.state == "pending"


def test_the_same_key_twice_gives_one_message(tdb):
    with tdb.transaction() as s:
        first = enqueue(s, key="t1:receipt", channel="sms", recipient="+8613803590001",
                        template_code="caller.receipt", context=RECEIPT)
        again = enqueue(s, key="t1:receipt", channel="sms", recipient="+8613803590001",
                        template_code="caller.receipt", context=RECEIPT)
    with tdb.transaction() as s:
        later = enqueue(s, key="t1:receipt", channel="sms", recipient="+8613803590001",
                        template_code="caller.receipt", context=RECEIPT)
        count = s.scalar(select(func.count()).select_from(OutboxMessage))
    assert first is not None and again is None and later is None and count == 1


def test_a_missing_placeholder_is_named(tdb):
    with tdb.transaction() as s, pytest.raises(Invalid, match=r"\{query_code\}") as err:
        enqueue(s, key="k", channel="sms", recipient="+8613803590001", template_code="caller.receipt",
                context={"ticket_number": "20261128-000123"})
    assert err.value.details["placeholder"] == "query_code"


def test_templates_load_idempotently_and_keep_an_admins_wording(tdb):
    with tdb.transaction() as s:
        s.get(MessageTemplate, "caller.closed").body = "【12345】工单{ticket_number}已办结，谢谢！"
        s.delete(s.get(MessageTemplate, "unit.overdue"))
    with tdb.transaction() as s:
        assert load_templates(s) == 1
        assert load_templates(s) == 0
        assert render(s, "caller.closed", {"ticket_number": "X1"})[1] == "【12345】工单X1已办结，谢谢！"
        assert s.scalar(select(func.count()).select_from(MessageTemplate)) == len(shipped_templates())


def test_an_unsafe_placeholder_is_refused(tdb):
    with tdb.transaction() as s:
        s.get(MessageTemplate, "caller.closed").body = "{ticket_number.__class__}"
    with tdb.transaction() as s, pytest.raises(Invalid, match="无效"):
        render(s, "caller.closed", {"ticket_number": "X1"})


def test_a_non_urgent_sms_at_half_past_eleven_waits_until_seven(tdb):
    clock.freeze(datetime(2026, 11, 28, 23, 30))
    with tdb.transaction() as s:
        calm = enqueue(s, key="a", channel="sms", recipient="+8613803590001",
                       template_code="caller.receipt", context=RECEIPT)
        urgent = enqueue(s, key="b", channel="sms", recipient="+8613803590001",
                         template_code="caller.receipt", context=RECEIPT, urgent=True)
        inbox = enqueue(s, key="c", channel="inbox", recipient="1", template_code="unit.dispatch",
                        context={"ticket_number": "N", "title": "停水", "deadline": "12月1日"})
    assert _local(calm) == datetime(2026, 11, 29, 7, 0)
    assert urgent.not_before == clock.now()
    assert inbox.not_before == clock.now()


@pytest.mark.parametrize(("at", "held_until"), [
    (datetime(2026, 11, 29, 3, 0), datetime(2026, 11, 29, 7, 0)),
    (datetime(2026, 11, 28, 22, 0), datetime(2026, 11, 29, 7, 0)),
    (datetime(2026, 11, 28, 21, 59), datetime(2026, 11, 28, 21, 59)),
    (datetime(2026, 11, 28, 7, 0), datetime(2026, 11, 28, 7, 0)),
])
def test_quiet_hour_edges(tdb, at, held_until):
    with tdb.transaction() as s:
        msg = enqueue(s, key="a", channel="sms", recipient="+8613803590001", template_code="caller.receipt",
                      context=RECEIPT, now=clock.aware(at))
    assert _local(msg) == held_until
