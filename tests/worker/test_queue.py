"""The huey queue: storage chosen by configuration, and consumers that do the due work and stop cleanly."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
from huey import PostgresHuey, RedisHuey, SqliteHuey

from hotline.config import load_settings
from hotline.kit.db import Database
from hotline.kit.errors import Invalid
from hotline.notify.models import MessageState, OutboxMessage
from hotline.worker import queue
from tests.worker.scenario import (
    assert_done_exactly_once,
    count,
    hotline_env,
    owed,
    run_hotline,
    seed_due_tickets,
    start_hotline,
    wait_for,
)

REDIS_URL = "redis://127.0.0.1:6379/15"


def round_trip(huey) -> None:
    """The storage answers: a value put in comes out once."""
    key = f"hotline-test-{uuid.uuid4().hex}"
    huey.storage.put_data(key, b"1")
    assert huey.storage.pop_data(key) == b"1"
    assert huey.storage.pop_data(key) != b"1"


def test_the_embedded_default_is_a_sqlite_queue_in_the_data_directory(tmp_path: Path):
    huey = queue.storage(load_settings({"HOTLINE_DATA_DIR": str(tmp_path)}))
    assert isinstance(huey, SqliteHuey) and Path(huey.storage.filename) == tmp_path / "queue.db"
    round_trip(huey)


def test_on_postgresql_the_queue_lives_in_the_same_database_or_where_the_url_says(pg_db: Database, tmp_path: Path):
    same = queue.storage(load_settings({"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_DATABASE_URL": pg_db.url}))
    assert isinstance(same, PostgresHuey) and same.storage.dsn == pg_db.url.replace("+psycopg", "")
    round_trip(same)
    # An embedded (SQLite) platform may still keep its queue on a PostgreSQL server.
    apart = queue.storage(load_settings({"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_QUEUE_URL": pg_db.url}))
    assert isinstance(apart, PostgresHuey)
    round_trip(apart)


def test_a_queue_url_chooses_redis_and_anything_else_is_refused(tmp_path: Path):
    def settings(url: str):
        return load_settings({"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_QUEUE_URL": url})

    assert isinstance(queue.storage(settings(REDIS_URL)), RedisHuey)
    with pytest.raises(Invalid, match="HOTLINE_QUEUE_URL"):
        queue.storage(settings("amqp://broker/"))


def test_sqlalchemy_urls_become_libpq_ones():
    assert (queue.libpq_dsn("postgresql+psycopg://hl:p%40ss@db.example:5433/queue?sslmode=require")
            == "postgresql://hl:p%40ss@db.example:5433/queue?sslmode=require")


def test_a_redis_queue_answers(tmp_path: Path):
    huey = queue.storage(load_settings({"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_QUEUE_URL": REDIS_URL}))
    try:
        huey.storage.conn.ping()
    except Exception as exc:  # noqa: BLE001 - no Redis here: say so
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    round_trip(huey)


def test_the_delivery_loop_keeps_looking_and_ends_at_once_when_the_consumer_stops():
    stop = threading.Event()
    rounds: list[float] = []
    assert queue.delivery_loop(lambda: rounds.append(time.monotonic()), seconds=0.35, pause=0.1, stop=stop) >= 3
    stop.set()
    started = time.monotonic()
    assert queue.delivery_loop(lambda: None, seconds=60, pause=5, stop=stop) == 1
    assert time.monotonic() - started < 1


def test_a_worker_process_does_the_due_work_at_once_and_stops_on_sigterm(data_dir: Path, data_db: Database):
    seed_due_tickets(data_db, 30)
    expected = owed(data_db)
    worker = start_hotline(hotline_env(data_dir=data_dir), "worker", "--threads", "2")
    try:
        # The consumer enqueues its periodic tasks when it starts, then every minute.
        wait_for(lambda: count(data_db, OutboxMessage, OutboxMessage.state == MessageState.sent)
                 == len(expected.messages), timeout=60, what="the notices to be sent")
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
        assert time.monotonic() - started < 10  # the delivery loop does not hold it up
    finally:
        if worker.poll() is None:
            worker.kill()
        _, err = worker.communicate()
    assert "hotline worker 已启动" in err
    assert_done_exactly_once(data_db, expected, data_dir / "outbox" / "sms.log")


def test_the_in_process_consumer_of_serve_leaves_signal_handlers_alone(data_dir: Path, data_db: Database):
    seed_due_tickets(data_db, 10)
    expected = owed(data_db)
    settings = load_settings({"HOTLINE_DATA_DIR": str(data_dir)})
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer = queue.consumer(queue.make_huey(settings, data_db), threads=2, in_process=True)
    consumer.start()
    try:
        assert {s: signal.getsignal(s) for s in handlers} == handlers
        wait_for(lambda: count(data_db, OutboxMessage, OutboxMessage.state == MessageState.sent)
                 == len(expected.messages), timeout=60, what="the notices to be sent")
    finally:
        started = time.monotonic()
        consumer.stop()
        assert time.monotonic() - started < 10
    assert_done_exactly_once(data_db, expected, data_dir / "outbox" / "sms.log")


def test_serve_with_several_web_processes_runs_one_consumer(data_dir: Path, data_db: Database):
    seed_due_tickets(data_db, 10)
    expected = owed(data_db)
    port = _free_port()
    server = start_hotline(hotline_env(data_dir=data_dir), "serve", "--workers", "2", "--port", str(port))
    try:
        wait_for(lambda: count(data_db, OutboxMessage, OutboxMessage.state == MessageState.sent)
                 == len(expected.messages), timeout=90, what="the notices to be sent")
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
        _, err = server.communicate()
    assert err.count("后台任务") == 1, err
    assert_done_exactly_once(data_db, expected, data_dir / "outbox" / "sms.log")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_worker_whose_queue_does_not_answer_stops_at_once_saying_so(data_dir: Path):
    """Not a traceback a second for ever: one line naming the queue, and a failing exit status."""
    done = run_hotline(hotline_env(data_dir=data_dir, HOTLINE_QUEUE_URL="redis://127.0.0.1:1/0"), "worker", timeout=90)
    assert done.returncode != 0
    assert done.stderr.startswith("错误：无法连接任务队列 redis://127.0.0.1:1/0：")
    assert done.stderr.rstrip().endswith("请检查 HOTLINE_QUEUE_URL 和队列服务是否在运行")
    assert "Traceback" not in done.stderr + done.stdout and len(done.stderr.strip().splitlines()) == 1


class Waits:
    """A consumer's stop flag that records how long it was asked to wait instead of waiting."""

    def __init__(self) -> None:
        self.waited: list[float] = []

    def wait(self, seconds: float) -> bool:
        self.waited.append(seconds)
        return False

    def is_set(self) -> bool:
        return False


def test_a_queue_lost_after_start_is_tried_ever_more_slowly_with_a_line_not_a_traceback(tmp_path: Path, caplog):
    huey = SqliteHuey(filename=str(tmp_path / "queue.db"))
    worker = queue.consumer(huey, threads=2).worker_threads[0][0]
    worker.stop_flag = Waits()

    def down() -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    huey.dequeue = down
    with caplog.at_level("INFO", logger="huey.consumer"):
        for _ in range(10):
            worker.loop()
        assert worker.stop_flag.waited == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
        huey.dequeue = lambda: None
        worker.loop()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "任务队列不可用：Error 111 connecting to 127.0.0.1:6379. Connection refused.；1 秒后重试"
    # then quiet while the waits grow, and one line a minute once they are a minute long
    assert lines[1:] == ["任务队列不可用：Error 111 connecting to 127.0.0.1:6379. Connection refused.；60 秒后重试"] * 4 + [
        "任务队列已恢复"]
    assert not any(r.exc_info for r in caplog.records)
