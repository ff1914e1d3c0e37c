"""The demo's employment work in 黎城县: what someone opening the 就业服务站 pages would notice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from hotline.demo.employment import ACTIVITY_TITLES, MEETING, XINSHE, generate_employment
from hotline.demo.generate import load_staff
from hotline.employment import standard
from hotline.employment.models import (
    Activity,
    Assistance,
    EmploymentStatus,
    JobPosting,
    Referral,
    ReferralState,
    Worker,
)
from hotline.employment.scope import EVERYWHERE
from hotline.kit import clock

NOW = datetime(2026, 11, 18, 2, 30, tzinfo=UTC)


def _figures(session):
    return [(v.village_code, v.registered, v.employed, v.meets) for v in standard.villages(session, EVERYWHERE)]


def test_stations_ledgers_jobs_and_a_few_villages_meeting_the_standard(db):
    with db.transaction() as s:
        load_staff(s, None)
    with db.transaction() as s:
        summary = generate_employment(s, seed=7, now=NOW)
    assert 15 <= summary["stations"] <= 20 and summary["hired"] > 0
    with db.session() as s, clock.frozen(NOW):
        figures = standard.villages(s, EVERYWHERE)
        assert XINSHE in {v.village_code for v in figures}
        assert all(v.village_code.startswith("140426") and 30 <= v.registered <= 80 for v in figures)
        meets = [v for v in figures if v.meets]
        assert len(meets) == MEETING and len(figures) - len(meets) >= 10
        statuses = Counter(s.scalars(select(Worker.employment_status)))
        assert all(statuses[k] > 0 for k in EmploymentStatus)
        assert statuses[EmploymentStatus.stable] > statuses[EmploymentStatus.unemployed]
        workshops = list(s.scalars(select(JobPosting).where(JobPosting.workshop.is_(True))))
        assert workshops and all("计件" in j.pay for j in workshops)
        hired = s.scalars(select(Referral).where(Referral.state == ReferralState.hired)).all()
        placed = s.get(Worker, hired[0].worker_id)
        assert placed.employment_status == EmploymentStatus.stable and placed.employer
        assert s.scalar(select(func.count()).select_from(Assistance)) > summary["workers"] / 2
        first = _figures(s)
    # Once there, the generator adds nothing.
    with db.transaction() as s:
        assert generate_employment(s, seed=7, now=NOW)["stations"] == 0
    with db.session() as s, clock.frozen(NOW):
        assert _figures(s) == first


def test_the_same_seed_makes_the_same_villages(db):
    runs = []
    for _ in range(2):
        with db.session() as s, clock.frozen(NOW):
            generate_employment(s, seed=3, now=NOW)
            runs.append(_figures(s))
            s.rollback()
    assert runs[0] == runs[1] and runs[0]


def test_every_activity_is_titled_as_its_kind(db):
    """Last year's activities were titled by one kind and filed under another (活动场所 ·
    （上年度）宣传队活动) on the 六个一活动 page."""
    with db.transaction() as s:
        load_staff(s, None)
    with db.transaction() as s:
        generate_employment(s, seed=7, now=NOW)
    with db.session() as s:
        activities = s.scalars(select(Activity)).all()
        assert any(a.title.startswith("（上年度）") for a in activities)
        assert all(a.title.removeprefix("（上年度）") in ACTIVITY_TITLES[a.kind] for a in activities)
