"""The huey queue: where its storage lives, the periodic tasks, and the consumers that run them.

Storage (``HOTLINE_QUEUE_URL``): unset, the database itself (SQLite: ``queue.db`` next to it in
the data directory; PostgreSQL: huey's tables in the same database); ``redis://…`` or
``postgresql://…`` for a queue of its own.

Each consumer enqueues the periodic tasks at start and then every minute; with several consumers
each does, and that is harmless: the sweeps claim rows in the database, so a task that runs on two
machines at once does its work once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from sqlalchemy.engine import make_url

from hotline import wiring
from hotline.config import Settings
from hotline.kit.db import Database
from hotline.kit.errors import Invalid
from hotline.worker import jobs

log = logging.getLogger(__name__)

NAME = "hotline"
EVERY_MINUTE = crontab()
EVERY_FIVE_MINUTES = crontab(minute="*/5")
EVERY_HOUR = crontab(minute="17")
STALE_AFTER = 120  # seconds: a periodic task that waited longer in the queue is dropped (the next one comes)
DELIVERY_SECONDS = 50  # the delivery task keeps looking for new messages this long within its minute
DELIVERY_PAUSE = 2.0  # and looks this often, so a message goes out within seconds of its commit
STOPPING = threading.Event()  # set when a consumer stops: the delivery loop ends at once


def libpq_dsn(url: str) -> str:
    """``postgresql+psycopg://u:p@h/db?x=y`` → ``postgresql://u:p@h/db?x=y`` (what psycopg connects to)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def storage(settings: Settings) -> Huey:
    """The huey instance for the configured queue storage (tasks not yet registered)."""
    url = settings.queue_url or ""
    common = {"name": NAME, "results": False, "utc": True}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(url=url, **common)
    if url.startswith("postgres") or (not url and not settings.is_sqlite):
        return PostgresHuey(dsn=libpq_dsn(url or settings.database_url), **common)
    if url.startswith("sqlite:///"):
        return SqliteHuey(filename=make_url(url).database, **common)
    if url:
        raise Invalid(f"HOTLINE_QUEUE_URL 只支持 redis://、postgresql:// 或 sqlite:///，收到 {url.split(':', 1)[0]}://…",
                      code="invalid_queue_url")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(filename=str(settings.data_dir / "queue.db"), **common)


def delivery_loop(deliver: Callable[[], object], *, seconds: float = DELIVERY_SECONDS,
                  pause: float = DELIVERY_PAUSE, stop: threading.Event = STOPPING) -> int:
    """Deliver, then look again every ``pause`` seconds for ``seconds`` (or until the consumer
    stops); returns how many rounds ran."""
    end = time.monotonic() + seconds
    rounds = 0
    while True:
        deliver()
        rounds += 1
        if time.monotonic() >= end or stop.wait(pause):
            return rounds


def make_huey(settings: Settings, db: Database | None = None) -> Huey:
    """The queue with the periodic sweeps registered: deadlines, supervision orders, the outbox,
    incident detection and the dashboards' rollups (every five minutes).

    ``db`` is the process's database (``hotline serve`` passes its own, so SQLite writes share one
    lock); by default one is made from the settings.
    """
    wiring.install()
    huey = storage(settings)
    database = db or Database(settings.database_url)
    driver = jobs.sms_driver(settings)

    @huey.periodic_task(EVERY_MINUTE, name="hotline.sweep_deadlines", expires=STALE_AFTER)
    def sweep_deadlines() -> None:
        jobs.sweep_all_deadlines(database, settings, worker_name=jobs.worker_name())

    @huey.periodic_task(EVERY_MINUTE, name="hotline.sweep_orders", expires=STALE_AFTER)
    def sweep_orders() -> None:
        jobs.sweep_all_orders(database)

    @huey.periodic_task(EVERY_FIVE_MINUTES, name="hotline.detect_incidents", expires=STALE_AFTER)
    def detect_incidents() -> None:
        jobs.detect_incidents(database)

    @huey.periodic_task(EVERY_FIVE_MINUTES, name="hotline.refresh_rollups", expires=STALE_AFTER)
    def refresh_rollups() -> None:
        jobs.refresh_rollups(database)

    @huey.periodic_task(EVERY_HOUR, name="hotline.refresh_hotspots", expires=STALE_AFTER)
    def refresh_hotspots() -> None:
        jobs.refresh_hotspots(database)

    @huey.periodic_task(EVERY_HOUR, name="hotline.refresh_statistics", expires=STALE_AFTER)
    def refresh_statistics() -> None:
        jobs.refresh_statistics(database)

    @huey.periodic_task(EVERY_HOUR, name="hotline.generate_reports", expires=STALE_AFTER)
    def generate_reports() -> None:
        jobs.generate_reports(database)

    @huey.periodic_task(EVERY_MINUTE, name="hotline.deliver_outbox", expires=STALE_AFTER)
    def deliver_outbox() -> None:
        delivery_loop(lambda: jobs.deliver_all(database, driver, settings, worker_name=jobs.worker_name()))

    return huey


class WorkerConsumer(Consumer):
    """The consumer of ``hotline worker``: SIGINT stops it after the running tasks, SIGTERM at once
    (a task cut short is safe: its claims lapse and another worker finishes it)."""

    def start(self) -> None:
        STOPPING.clear()
        super().start()

    def stop(self, graceful: bool = False) -> None:
        STOPPING.set()
        super().stop(graceful=graceful)


class InProcessConsumer(WorkerConsumer):
    """The consumer ``hotline serve`` runs in threads beside the web server: it leaves the
    process's signal handlers to the web server, and on shutdown waits a few seconds for the
    running tasks (the delivery loop ends at once)."""

    def _set_signal_handlers(self) -> None:
        return None

    def stop(self, graceful: bool = True) -> None:
        super().stop(graceful=graceful)


def consumer(huey: Huey, *, threads: int = 2, in_process: bool = False) -> Consumer:
    """A consumer with ``threads`` worker threads (two or more, so the delivery loop, which keeps
    one busy for most of each minute, never holds up the sweeps)."""
    if in_process:
        return InProcessConsumer(huey, workers=threads, worker_type="thread", max_delay=2.0, shutdown_timeout=10)
    return WorkerConsumer(huey, workers=threads, worker_type="thread", max_delay=2.0)
