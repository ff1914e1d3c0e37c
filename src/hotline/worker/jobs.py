"""The worker's jobs: each sweep as one call, and ``run_once`` that runs them all in order.

Every job is safe to run on any number of machines at once: the sweeps claim rows in the database
(conditional UPDATEs with a lease), so a periodic task that fires on two workers does its work once.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import text

from hotline.analytics import rollups
from hotline.config import Settings
from hotline.incidents.detect import detect
from hotline.kit import ratelimit
from hotline.kit.db import Database
from hotline.notify.delivery import deliver_due
from hotline.notify.drivers import Driver, FileDriver, HttpSmsDriver
from hotline.reports import schedule as report_schedule
from hotline.reports import store
from hotline.reports.periods import Period
from hotline.supervision.orders import sweep_orders
from hotline.supervision.sweep import sweep_deadlines
from hotline.tickets import idempotency

log = logging.getLogger(__name__)

DELIVERY_BATCH = 100
MAX_ATTEMPTS = 8


def worker_name() -> str:
    """``host:pid``: what ``claimed_by`` shows an operator looking for a stuck worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


def sms_log_path(settings: Settings):
    return settings.data_dir / "outbox" / "sms.log"


def sms_driver(settings: Settings) -> Driver:
    """The HTTP SMS gateway when ``HOTLINE_SMS_URL`` is set, else the log file in the data directory."""
    if settings.sms_url:
        return HttpSmsDriver(settings.sms_url, settings.sms_key_id, settings.sms_secret)
    return FileDriver(sms_log_path(settings))


def lease(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.claim_lease_seconds)


def sweep_all_deadlines(db: Database, settings: Settings, *, worker_name: str,
                        now: datetime | None = None) -> dict[str, int]:
    """The deadline ladder: batch after batch until no ticket has a step due."""
    return sweep_deadlines(db, worker=worker_name, now=now, lease=lease(settings))


def sweep_all_orders(db: Database, *, now: datetime | None = None) -> dict[str, int]:
    """Supervision orders past their deadline, batch after batch until none is left."""
    total = 0
    while (found := sweep_orders(db, now=now)["overdue"]) > 0:
        total += found
    return {"overdue": total}


def deliver_all(db: Database, driver: Driver, settings: Settings, *, worker_name: str,
                now: datetime | None = None) -> dict[str, int]:
    """Send what the outbox holds until a round claims nothing. A message that fails waits out its
    backoff, so this ends even when the gateway is down."""
    totals = {"claimed": 0, "sent": 0, "retried": 0, "dead": 0}
    while True:
        counts = deliver_due(db, driver, worker=worker_name, batch=DELIVERY_BATCH, now=now,
                             max_attempts=MAX_ATTEMPTS, lease=lease(settings))
        for name, value in counts.items():
            totals[name] += value
        if not counts["claimed"]:
            return totals


INCIDENT_LOCK = 12345_0008  # the advisory lock that keeps two workers from detecting at once (PostgreSQL)


def detect_incidents(db: Database, *, now: datetime | None = None) -> dict[str, int]:
    """One incident detection run (bursts of related tickets → proposed incidents), in one
    transaction; on PostgreSQL an advisory lock makes concurrent runs wait for each other, so a
    burst is proposed once (SQLite writes are serialised anyway)."""
    with db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": INCIDENT_LOCK})
        result = detect(session, now=now)
        return {"proposed": result.proposed, "updated": result.updated}


def refresh_statistics(db: Database) -> bool:
    """Planner statistics for SQLite (``ANALYZE``), hourly: without them SQLite may read a township's
    tickets through the status index instead of the partial index of open tickets. PostgreSQL's
    autovacuum keeps its own statistics, so nothing is done there. Returns whether it ran."""
    with db.transaction() as session:
        if session.get_bind().dialect.name != "sqlite":
            return False
        session.execute(text("ANALYZE"))
        return True


def purge_idempotency_keys(db: Database, *, now: datetime | None = None) -> int:
    """Remove the API's idempotency keys past their 24 hours (hourly; a request meeting an expired
    key takes it over anyway, so this only keeps the table small). Returns how many went."""
    with db.transaction() as session:
        return idempotency.purge_expired(session, now=now)


def purge_rate_limit_hits(db: Database, *, now: datetime | None = None) -> int:
    """Remove the portal's counted hits older than a day (hourly; no window is that long, so this
    only keeps the table small). Returns how many went."""
    with db.transaction() as session:
        return ratelimit.purge(session, now=now)


def refresh_rollups(db: Database, *, now: datetime | None = None) -> dict[str, int]:
    """The dashboards' rollup tables brought up to date (the days touched since the last run; the
    first run rebuilds them). One transaction; concurrent runs queue on a lock."""
    with db.transaction() as session:
        result = rollups.refresh(session, now=now)
        return {"days": result.days, "rebuilt": int(result.rebuilt)}


def refresh_hotspots(db: Database, *, now: datetime | None = None) -> int:
    """The hot spots of yesterday, the last 7 and 30 days, for the city and each county, stored for
    the dashboards (minutes of clustering at most, bounded by ``hotspots.Limits``). Returns the
    number stored."""
    from hotline.analytics.hotspots import refresh_snapshots
    from hotline.kit import clock

    with db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": HOTSPOT_LOCK})
        return refresh_snapshots(session, now or clock.now())


HOTSPOT_LOCK = 12345_0011


def generate_reports(db: Database, *, now: datetime | None = None) -> dict[str, int]:
    """The due briefings (yesterday's 日报 from 06:00 local, last week's 周报 from Monday, the last
    assessment month's 月报 from the day after it ends) that are not stored yet, stored in the
    ``reports`` table. The rollups are brought up to date first, only when one is due; a report
    already stored is never made again, so the hourly task does its work once a day, unless it was
    made on demand before its period ended: that interim one is replaced by the final report."""
    with db.transaction(write=False) as session:
        due = report_schedule.missing(session, now=now)
    if not due:
        return {"reports": 0}
    refresh_rollups(db, now=now)
    made = [f"{p.kind}/{p.label}" for p in due if _make_report(db, p, now)]
    log.info("reports made: %s", ", ".join(made))
    return {"reports": len(made)}


def _make_report(db: Database, period: Period, now: datetime | None) -> bool:
    """Build and store one due report unless it is stored already; whether this call stored it.

    PostgreSQL: one transaction under the report's advisory lock (``reports.store.ensure``), so of
    several workers one builds it and the others wait and find it; writers there do not block each
    other. SQLite has one writer for the whole database: the report is built under a read
    transaction and stored in a short write one, so intake and the other sweeps are not held up for
    the seconds a build takes (two SQLite workers at once may both build it; one row is kept)."""
    kind, label = period.kind, period.label
    if db.dialect == "postgresql":
        with db.transaction() as session:
            return store.ensure(session, kind, label,
                                lambda: report_schedule.render(session, kind, period.last, now=now))
    with db.transaction(write=False) as session:
        if store.final(session, kind, label):
            return False
        rendered = report_schedule.render(session, kind, period.last, now=now)
    with db.transaction() as session:
        return store.ensure(session, kind, label, lambda: rendered)


def run_once(db: Database, settings: Settings, *, worker_name: str, now: datetime | None = None,
             driver: Driver | None = None) -> dict[str, int]:
    """Every due sweep once, in order: the deadline ladder, overdue supervision orders, incident
    detection, then the outbox (which now holds what the sweeps wrote). Returns the counts."""
    deadlines = sweep_all_deadlines(db, settings, worker_name=worker_name, now=now)
    orders = sweep_all_orders(db, now=now)
    incidents = detect_incidents(db, now=now)
    refresh_rollups(db, now=now)
    sent = deliver_all(db, driver or sms_driver(settings), settings, worker_name=worker_name, now=now)
    counts = {
        "tickets_swept": deadlines["tickets"], "steps_taken": deadlines["steps"],
        "orders_overdue": orders["overdue"], "incidents_proposed": incidents["proposed"],
        "messages_sent": sent["sent"], "messages_retried": sent["retried"], "messages_dead": sent["dead"],
    }
    log.info("%s: %s", worker_name, counts)
    return counts
