"""Which briefings are due, and making them (the worker's job and the on-demand paths share this).

Due at local time ``now``, from 06:00 on (the night's rollup refreshes have settled by then):

- 日报: yesterday's;
- 周报: last week's (Monday–Sunday), from the Monday after it;
- 月报: the last finished assessment month's, from the day after it ends.

Only the latest period of each kind is due (no back-filling); one that is missing because the
worker was down is made at its next run, and one already stored is never made again
(``worker.jobs.generate_reports``) unless it was made on demand before its period ended (its
figures 期中统计): that one is made again, once, as the final report.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from hotline.analytics import rates
from hotline.kit import clock
from hotline.reports import periods, store
from hotline.reports.build import build

READY_AT = time(6, 0)


def due(now: datetime, start_day: int = 1) -> list[periods.Period]:
    """The latest finished period of each kind, once the day's ``READY_AT`` has passed."""
    local = clock.local(now)
    if local.time() < READY_AT:
        return []
    today = local.date()
    yesterday = today - timedelta(days=1)
    return [periods.daily(yesterday), periods.weekly(today - timedelta(days=today.weekday() + 1)),
            periods.period_of("monthly", periods.period_of("monthly", today, start_day).first - timedelta(days=1),
                              start_day)]


def render(session: Session, kind: str, day: date, *, now: datetime | None = None) -> store.Rendered:
    """The ``kind`` report of the period holding ``day``, built and turned into its two documents.
    It only reads: callers on SQLite run it under a read transaction and store the result in a short
    write one (:func:`store.save` or :func:`store.ensure`), so the one writer is not held while it builds."""
    return store.Rendered.of(build(session, kind, day, now=now))


def missing(session: Session, *, now: datetime | None = None) -> list[periods.Period]:
    """The due reports not stored yet, or stored only as made before their period ended (the worker
    refreshes the rollups first only when some are)."""
    now = now or clock.now()
    return [p for p in due(now, rates.current_rules(session).period_start_day)
            if not store.final(session, p.kind, p.label)]
