"""The huey queue: where its storage lives, the periodic tasks, and the consumers that run them.

Storage (``HOTLINE_QUEUE_URL``): unset, the database itself (SQLite: ``queue.db`` next to it in
the data directory; PostgreSQL: huey's tables in the same database); ``redis://…`` or
``postgresql://…`` for a queue of its own.

Each consumer enqueues the periodic tasks at start and then every minute; with several consumers
each does. The sweeps and the sending share the work: they claim rows in the database, so a task
that runs on two machines at once does its work once. The jobs that recompute something whole
(incident detection, rollups, hot spots, statistics, briefings) run on one worker at a time: on
PostgreSQL the others skip them while one holds the job's advisory lock (``one_at_a_time``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer, Worker
from sqlalchemy.engine import make_url

from hotline import wiring
from hotline.config import Settings
from hotline.kit.db import Database
from hotline.kit.errors import DomainError, Invalid
from hotline.kit.locks import startup_lock, try_job_lock
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
        huey = PostgresHuey(dsn=libpq_dsn(url or settings.database_url), create_tables=False, **common)
        _create_tables(huey, url or settings.database_url, settings)
        return huey
    if url.startswith("sqlite:///"):
        return SqliteHuey(filename=make_url(url).database, **common)
    if url:
        raise Invalid(f"HOTLINE_QUEUE_URL 只支持 redis://、postgresql:// 或 sqlite:///，收到 {url.split(':', 1)[0]}://…",
                      code="invalid_queue_url")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(filename=str(settings.data_dir / "queue.db"), **common)


class QueueUnavailable(DomainError):
    """The queue's storage does not answer (a Redis or PostgreSQL server down, a wrong address)."""

    code = "queue_unavailable"
    http_status = 503


def _create_tables(huey: Huey, url: str, settings: Settings) -> None:
    """huey's tables, made under the start-up lock: its ``CREATE TABLE IF NOT EXISTS`` run by two
    workers started together on a fresh database fails in one of them."""
    try:
        with startup_lock(make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)):
            huey.storage.initialize_schema()
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the queue is unusable
        raise _unavailable(settings, exc) from exc


def one_line(exc: BaseException) -> str:
    """An error as one short line (drivers write several, with hints in English)."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= 200 else text[:200] + "…"


def _where(settings: Settings) -> str:
    """The queue's address as shown in a message (no password)."""
    url = settings.queue_url or settings.database_url
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def _unavailable(settings: Settings, exc: BaseException) -> QueueUnavailable:
    return QueueUnavailable(f"无法连接任务队列 {_where(settings)}：{one_line(exc)}；"
                            "请检查 HOTLINE_QUEUE_URL 和队列服务是否在运行")


def check_storage(huey: Huey, settings: Settings) -> None:
    """Refuse to start a consumer whose queue does not answer: it would only log errors (one each
    second per thread) and do nothing."""
    try:
        huey.storage.queue_size()
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the queue is unusable
        raise _unavailable(settings, exc) from exc


RETRY_FIRST, RETRY_MOST = 1.0, 60.0  # seconds between tries while the queue is down, doubling


class PatientWorker(Worker):
    """huey's worker, except when the queue stops answering after start: one line (not a traceback
    a second) says so, the next tries come 1, 2, 4 … up to 60 seconds apart, and one line says when
    it answers again."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.retry_in = 0.0

    def loop(self, now: object = None) -> None:
        try:
            task = self.huey.dequeue()
        except Exception as exc:  # noqa: BLE001 - the storage's driver decides what it raises
            self.retry_in = min(self.retry_in * 2, RETRY_MOST) if self.retry_in else RETRY_FIRST
            if self.retry_in == RETRY_FIRST or self.retry_in == RETRY_MOST:
                self._logger.error("任务队列不可用：%s；%.0f 秒后重试", one_line(exc), self.retry_in)
            self.stop_flag.wait(self.retry_in)
            return
        if self.retry_in:
            self._logger.warning("任务队列已恢复")
            self.retry_in = 0.0
        if task is not None:
            self.delay = self.default_delay
            try:
                self.huey.execute(task, now)
            except Exception:
                self._logger.exception("Unhandled error during execution of task %s.", task.id)
        elif not self.huey.storage.blocking:
            self.sleep()


class _QuietOutage(logging.Filter):
    """The scheduler logs a traceback each second while the queue is down: keep one line a minute."""

    def __init__(self) -> None:
        super().__init__()
        self.last = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None:
            return True
        if time.monotonic() - self.last < RETRY_MOST:
            return False
        self.last = time.monotonic()
        record.msg = f"{record.getMessage()}: {one_line(record.exc_info[1])}（任务队列不可用？一分钟内不再重复）"
        record.args, record.exc_info, record.exc_text = (), None, None
        return True


_scheduler_log = logging.getLogger("huey.consumer.Scheduler")
if not any(isinstance(f, _QuietOutage) for f in _scheduler_log.filters):
    _scheduler_log.addFilter(_QuietOutage())


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


def one_at_a_time(database: Database, name: str, job: Callable[[], object]) -> bool:
    """Run a periodic job unless another worker is running it now (PostgreSQL: the job's advisory
    lock is held), in which case this one is skipped: that run does the work. Whether it ran."""
    with try_job_lock(database, name) as mine:
        if not mine:
            log.info("%s: another worker is running it; skipped", name)
            return False
        job()
        return True


def make_huey(settings: Settings, db: Database | None = None) -> Huey:
    """The queue with the periodic sweeps registered: deadlines, supervision orders, the outbox,
    incident detection and the dashboards' rollups (every five minutes); hourly the hot spots,
    SQLite's statistics, the API's expired idempotency keys, the portal's old rate-limit hits and the
    due briefings.

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
        one_at_a_time(database, "detect_incidents", lambda: jobs.detect_incidents(database))

    @huey.periodic_task(EVERY_FIVE_MINUTES, name="hotline.refresh_rollups", expires=STALE_AFTER)
    def refresh_rollups() -> None:
        one_at_a_time(database, "refresh_rollups", lambda: jobs.refresh_rollups(database))

    @huey.periodic_task(EVERY_HOUR, name="hotline.refresh_hotspots", expires=STALE_AFTER)
    def refresh_hotspots() -> None:
        one_at_a_time(database, "refresh_hotspots", lambda: jobs.refresh_hotspots(database))

    @huey.periodic_task(EVERY_HOUR, name="hotline.refresh_statistics", expires=STALE_AFTER)
    def refresh_statistics() -> None:
        one_at_a_time(database, "refresh_statistics", lambda: jobs.refresh_statistics(database))

    @huey.periodic_task(EVERY_HOUR, name="hotline.purge_idempotency_keys", expires=STALE_AFTER)
    def purge_idempotency_keys() -> None:
        jobs.purge_idempotency_keys(database)

    @huey.periodic_task(EVERY_HOUR, name="hotline.purge_rate_limit_hits", expires=STALE_AFTER)
    def purge_rate_limit_hits() -> None:
        jobs.purge_rate_limit_hits(database)

    @huey.periodic_task(EVERY_HOUR, name="hotline.generate_reports", expires=STALE_AFTER)
    def generate_reports() -> None:
        one_at_a_time(database, "generate_reports", lambda: jobs.generate_reports(database))

    @huey.periodic_task(EVERY_MINUTE, name="hotline.deliver_outbox", expires=STALE_AFTER)
    def deliver_outbox() -> None:
        delivery_loop(lambda: jobs.deliver_all(database, driver, settings, worker_name=jobs.worker_name()))

    return huey


class WorkerConsumer(Consumer):
    """The consumer of ``hotline worker``: SIGINT stops it after the running tasks, SIGTERM at once
    (a task cut short is safe: its claims lapse and another worker finishes it)."""

    worker_class = PatientWorker

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
