"""`hotline serve` says it has started when the site answers, and refuses a port already taken."""

from __future__ import annotations

import http.client
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.worker.scenario import HOTLINE, hotline_env

READY = "hotline 已启动"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    started: list[subprocess.Popen] = []

    def start(*args: str) -> tuple[subprocess.Popen, queue.Queue]:
        proc = subprocess.Popen(
            [*HOTLINE, "serve", "--no-worker", *args],
            env=hotline_env(data_dir=tmp_path / "data"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_lines, args=(proc.stderr, lines), daemon=True).start()
        return proc, lines

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_line(lines: queue.Queue, text: str, timeout: float = 240) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if text in line:
            return seen
    pytest.fail(f"no line with {text!r} in: {''.join(seen)}")


def test_the_started_line_comes_when_the_site_answers(serve):
    """It used to be printed before the site was loaded: on a busy machine a request sent on that
    word was refused for half a minute."""
    port = _free_port()
    proc, lines = serve("--port", str(port))
    seen = _wait_for_line(lines, READY)
    assert f"http://127.0.0.1:{port}/" in seen[-1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz")  # at once, once: no waiting for it to come up
        assert conn.getresponse().status == 200
    finally:
        conn.close()
    assert proc.poll() is None


def test_a_port_already_taken_is_refused_in_words_and_nothing_claims_to_have_started(serve):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc, lines = serve("--port", str(port))
        proc.wait(240)
        err = "".join(iter(lines.get, None))
    assert proc.returncode != 0
    last = err.strip().splitlines()[-1]  # the refusal is the last thing it says
    assert last.startswith(f"错误：无法在 127.0.0.1:{port} 上监听：") and "请换一个端口" in last, err
    assert READY not in err and "Traceback" not in err


def test_the_single_process_server_loads_the_hot_spots_libraries_as_it_starts(tmp_path: Path, monkeypatch):
    """``hotline serve`` (one web process) starts loading what on-demand hot spots and briefings use
    (``web.app.warm_up``) before it serves, not at the first request that needs them (5.4 s then)."""
    import uvicorn
    from click.testing import CliRunner

    from hotline.cli.main import cli
    from hotline.web import app as web_app

    events: list[str] = []
    monkeypatch.setattr(web_app, "warm_up", lambda: events.append("warm-up"))
    monkeypatch.setattr(uvicorn, "run", lambda site, **kw: events.append(f"serve {type(site).__name__}"))
    runner = CliRunner(env={"HOTLINE_DATA_DIR": str(tmp_path / "data"), "HOTLINE_DATABASE_URL": None})
    done = runner.invoke(cli, ["serve", "--no-worker", "--port", str(_free_port())], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert events == ["warm-up", "serve FastAPI"]
