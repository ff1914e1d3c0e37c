"""A county picked on the dashboard: every figure counts the tickets placed in that county (its
townships and villages, and those placed at county level only), as a plain count over those tickets
would, and not the city's."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import select

from hotline.analytics import dashboard, rollups
from hotline.kit import clock
from hotline.tickets.models import Ticket, TicketUnit, UnitRole
from hotline.tickets.states import OPEN
from tests.analytics.test_rates import CST, handled

XIA, YANHU = "140828", "140802"
JAN = (date(2026, 1, 1), date(2026, 1, 31))


def two_counties(session, p):
    """夏县: three tickets handled to the end (one placed at county level only, one by web); 盐湖区:
    one handled, two left open and dispatched long ago (overdue by the 20th)."""
    clock.freeze(datetime(2026, 1, 12, 9, tzinfo=CST))
    handled(session, p)
    # placed at county level only (an imported or older ticket: intake asks for a township)
    handled(session, p, verdict=("dissatisfied", False)).region_code = XIA
    clock.freeze(datetime(2026, 1, 13, 9, tzinfo=CST))
    handled(session, p, channel="web", kind="complaint")
    handled(session, p, region_code="140802001", co=False)
    for _ in range(2):
        t = handled(session, p, region_code="140802001", accept_after=None, co=False)
        assert t.status.value in {s.value for s in OPEN}
    clock.freeze(datetime(2026, 1, 20, 10, tzinfo=CST))
    rollups.rebuild(session)
    session.flush()


def plain(session, county: str) -> dict:
    """The figures counted by hand over the county's tickets."""
    tickets = [t for t in session.scalars(select(Ticket)) if t.region_code.startswith(county)]
    ids = {t.id for t in tickets}
    leads = [u for u in session.scalars(select(TicketUnit)) if u.ticket_id in ids and u.role == UnitRole.lead]
    return {
        "channels": Counter(t.channel.value for t in tickets),
        "kinds": Counter(str(t.kind.value if hasattr(t.kind, "value") else t.kind) for t in tickets),
        "open": sum(t.status in OPEN for t in tickets),
        "replied": Counter(u.unit_id for u in leads if u.replied_on_time is not None),
        "evaluated": sum(1 for u in leads if u.callback_at is not None and u.satisfaction
                         and u.satisfaction.value != "not_reached"),
    }


def totals(volume: dict[str, dict[str, int]]) -> Counter:
    out: Counter = Counter()
    for per_day in volume.values():
        out.update(per_day)
    return +out


def test_every_dashboard_figure_of_a_county_is_a_plain_count_of_its_tickets(session, people):
    two_counties(session, people)
    first, last = JAN
    for county in (XIA, YANHU):
        want = plain(session, county)
        assert totals(dashboard.volume(session, first, last, by="channel", region_code=county)) == want["channels"]
        assert totals(dashboard.volume(session, first, last, by="kind", region_code=county)) == want["kinds"]
        assert dashboard.open_now(session, region_code=county) == want["open"]
        units = dashboard.deadlines_by_unit(session, first, last, region_code=county)
        assert {r["unit_id"]: r["replied"] for r in units if r["replied"]} == dict(want["replied"])
        for raw in (False, True):
            trend = dashboard.satisfaction_trend(session, first, last, region_code=county, raw=raw)
            assert sum(t["evaluated"] for t in trend) == want["evaluated"]
    # and they differ from the city's
    city = totals(dashboard.volume(session, first, last, by="channel"))
    assert city == {"phone": 5, "web": 1} and totals(
        dashboard.volume(session, first, last, by="channel", region_code=XIA)) == {"phone": 2, "web": 1}
    assert dashboard.open_now(session) == 6 and dashboard.open_now(session, region_code=XIA) == 3
    assert dashboard.overdue_total(session) == 2 == dashboard.overdue_total(session, region_code=YANHU)
    assert dashboard.overdue_total(session, region_code=XIA) == 0
    assert dashboard.overdue_now(session, region_code=XIA) == {}
    xia = {t["period"]: t for t in dashboard.satisfaction_trend(session, first, last, region_code=XIA)}
    city_trend = {t["period"]: t for t in dashboard.satisfaction_trend(session, first, last)}
    assert xia["2026-01-12"]["satisfaction_rate"] == 0.5 and city_trend["2026-01-12"]["satisfaction_rate"] == 0.5
    assert xia["2026-01-13"]["evaluated"] == 1 and city_trend["2026-01-13"]["evaluated"] == 2
    assert sum(r["replied"] for r in dashboard.deadlines_by_unit(session, first, last)) == 4
    assert sum(r["replied"] for r in dashboard.deadlines_by_unit(session, first, last, region_code=XIA)) == 3


def test_a_region_code_is_a_range_of_codes_not_a_prefix_of_another_county(session, people):
    """140828's figures never take in 1408281… (no such code) nor 14082 (a shorter one)."""
    clock.freeze(datetime(2026, 1, 12, 9, tzinfo=CST))
    handled(session, people).region_code = "1408"  # the city only
    rollups.rebuild(session)
    session.flush()
    assert dashboard.open_now(session, region_code=XIA) == 0
    assert totals(dashboard.volume(session, *JAN, by="channel", region_code=XIA)) == {}
    assert totals(dashboard.volume(session, *JAN, by="channel", region_code="1408")) == {"phone": 1}


def test_a_countys_volume_and_deadlines_come_from_the_rollups_like_the_citys(session, people):
    """The county's volume (by channel and kind) and deadlines by unit are the rollup's figures
    (equal to the plain count over the raw tables after a refresh), so at any moment the counties
    add up to the city: a ticket received since the last refresh appears in both after the next."""
    two_counties(session, people)
    handled(session, people).region_code = "1408"  # placed at city level only: in no county
    rollups.rebuild(session)
    session.flush()
    first, last = JAN
    for region in (XIA, YANHU, "1408"):
        for by in ("channel", "kind"):
            assert dashboard.volume(session, first, last, by=by, region_code=region) == dashboard.volume(
                session, first, last, by=by, region_code=region, raw=True)
        assert dashboard.deadlines_by_unit(session, first, last, region_code=region) == dashboard.deadlines_by_unit(
            session, first, last, region_code=region, raw=True)

    def seen() -> tuple[Counter, Counter, Counter, int]:
        """The city's volume, the counties' (and the city-level ticket's) added up, 夏县's, and the
        answers of 夏县's tickets per unit added up."""
        city = totals(dashboard.volume(session, first, last))
        xia = totals(dashboard.volume(session, first, last, region_code=XIA))
        counties = xia + totals(dashboard.volume(session, first, last, region_code=YANHU)) + Counter(phone=1)
        replied = sum(r["replied"] for r in dashboard.deadlines_by_unit(session, first, last, region_code=XIA))
        return city, counties, xia, replied

    city, counties, xia, replied = seen()
    assert counties == city == totals(dashboard.volume(session, first, last, region_code="1408"))
    assert (sum(xia.values()), replied) == (3, 3)
    handled(session, people, channel="web")  # 夏县, received, dispatched and answered since the refresh
    session.flush()
    assert seen() == (city, counties, xia, replied)  # not yet: neither in the city's figures nor the county's
    rollups.refresh(session)
    city, counties, xia, replied = seen()
    assert counties == city and city["web"] == 2 and (sum(xia.values()), replied) == (4, 4)
