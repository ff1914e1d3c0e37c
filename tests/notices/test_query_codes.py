"""找回查询码: the codes of a phone's latest tickets go by SMS to that phone, through the outbox,
at most a few times a day; a number with no ticket an SMS may name gets nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.kit import clock
from hotline.notices import query_codes
from hotline.notify.models import MessageChannel, OutboxMessage
from tests.builders import make_ticket

CALLER = "+8613803590001"  # the 张先生 of tests/builders.py
SH = ZoneInfo("Asia/Shanghai")


def sent(session) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template_code == "caller.query_codes")
            .order_by(OutboxMessage.id)
        )
    )


def test_the_codes_of_the_latest_tickets_go_to_that_phone_and_nowhere_else(session, people):
    clock.freeze(datetime(2026, 11, 27, 10, 0, tzinfo=SH))
    tickets = [make_ticket(session, people) for _ in range(query_codes.SHOWN + 1)]
    make_ticket(session, people, caller_phone="13803590002")  # another caller's
    session.flush()
    assert query_codes.send_query_codes(session, CALLER)
    (sms,) = sent(session)
    assert sms.channel == MessageChannel.sms and sms.recipient == CALLER and sms.subject == "找回查询码"
    for t in tickets[1:]:  # the latest five
        assert f"{t.number}（查询码{t.query_code}）" in sms.body
    assert tickets[0].number not in sms.body
    assert sms.not_before == clock.now()  # daytime: sent at once


def test_nothing_goes_to_a_number_without_tickets_or_with_anonymous_ones_only(session, people):
    make_ticket(session, people, caller_phone="13803590003", caller_anonymous=True)
    session.flush()
    assert not query_codes.send_query_codes(session, "+8613803590003")
    assert not query_codes.send_query_codes(session, "+8613999999999")
    assert sent(session) == []


def test_at_most_three_a_day_per_number_then_the_next_day_again(session, people):
    clock.freeze(datetime(2026, 11, 27, 23, 30, tzinfo=SH))
    make_ticket(session, people)
    session.flush()
    results = [query_codes.send_query_codes(session, CALLER) for _ in range(query_codes.PER_DAY + 1)]
    assert results == [True] * query_codes.PER_DAY + [False]
    assert len(sent(session)) == query_codes.PER_DAY
    # Asked late at night: held till the morning, like every non-urgent SMS.
    assert clock.local(sent(session)[0].not_before) == datetime(2026, 11, 28, 7, 0, tzinfo=SH)
    clock.advance(timedelta(hours=1))  # past midnight: a new day
    assert query_codes.send_query_codes(session, CALLER)
