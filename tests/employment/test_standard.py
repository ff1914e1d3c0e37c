"""The full-employment village standard: employment rate and the six ones of the year."""

from __future__ import annotations

from datetime import date, datetime

from hotline.directory import settings
from hotline.employment import service, standard
from hotline.employment.models import ActivityKind
from hotline.employment.scope import EVERYWHERE
from hotline.kit import clock
from tests.employment.conftest import ZHULV, make_worker

MIX = ["稳定就业"] * 6 + ["灵活就业"] * 2 + ["季节性务工"] + ["未就业"] + ["无就业意愿"] * 2 + ["无劳动能力"]


def _ledger(session, statuses):
    for i, status in enumerate(statuses):
        make_worker(session, name=f"村民{i}", employment_status=status)


def _six_ones(session, *, but: ActivityKind | None = None, on_day: date = date(2026, 5, 20)):
    for kind in ActivityKind:
        if kind != but:
            service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind=kind, title=f"{kind}活动",
                                 on_day=on_day, participants=20)


def _zhulv(session):
    return standard.villages(session, EVERYWHERE, village_code=ZHULV)[0]


def test_a_village_with_90_percent_employed_and_all_six_ones_meets_the_standard(session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    _ledger(session, MIX)
    _six_ones(session)
    v = _zhulv(session)
    assert (v.registered, v.labour_force, v.employed, v.stable, v.unemployed) == (13, 10, 9, 6, 1)
    assert v.rate == 0.9 and v.short == 0 and v.missing == [] and v.meets and v.gaps == []


def test_a_missing_activity_or_one_more_unemployed_fails_it_and_says_why(session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    _ledger(session, MIX)
    _six_ones(session, but=ActivityKind.job_fair)
    v = _zhulv(session)
    assert not v.meets and v.gaps == ["本年度未开展：招聘会"]
    _six_ones(session, on_day=date(2025, 12, 30))  # last year's do not count
    assert _zhulv(session).missing == [ActivityKind.job_fair]
    service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="job_fair", title="春风行动招聘会",
                         participants=40, on_day=date(2026, 3, 1))
    assert _zhulv(session).meets
    make_worker(session, name="新增未就业", employment_status="未就业")
    v = _zhulv(session)
    assert (v.labour_force, v.employed, v.short, v.meets) == (11, 9, 1, False)
    assert v.gaps == ["就业率 81.8%，低于 90%，还需 1 人就业"]


def test_the_thresholds_are_settings(session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    _ledger(session, MIX + ["未就业"])
    assert not _zhulv(session).meets
    settings.set_value(session, "employment.min_rate", 0.8)
    settings.set_value(session, "employment.require_six_ones", False)
    v = _zhulv(session)
    assert v.meets and v.missing and v.gaps == []


def test_an_empty_ledger_never_meets_it(session, staff):
    _six_ones(session, on_day=clock.local().date())
    v = _zhulv(session)
    assert v.rate is None and not v.meets and "没有有劳动能力且有就业意愿的人员" in v.gaps[0]
