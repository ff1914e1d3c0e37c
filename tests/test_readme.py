"""The README's walk-through works verbatim against a live `hotline serve` (SQLite, the default)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOTLINE = Path(sys.executable).parent / "hotline"


def _block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- walkthrough:start -->\s*```bash\n(.*?)```\s*<!-- walkthrough:end -->", text, re.S)
    assert match, "README.md has no walk-through block"
    return match.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path):
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "data")}
    env.pop("HOTLINE_DATABASE_URL", None)
    subprocess.run([HOTLINE, "init"], env=env, check=True, capture_output=True)
    for name, role, unit in [("agent1", "agent", "yuncheng-12345"), ("dispatcher1", "dispatcher", "yuncheng-12345"),
                             ("xiaxian-water-1", "handler", "xiaxian-water")]:
        subprocess.run([HOTLINE, "user", "add", name, "--role", role, "--unit", unit], env=env, check=True,
                       capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([HOTLINE, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # a loaded machine starts it slowly
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("hotline serve did not start: " + proc.stderr.read().decode())
    yield url, env
    proc.terminate()
    proc.wait(10)


def test_walkthrough_runs_verbatim(server):
    url, env = server
    # The block calls `.venv/bin/hotline`; point that name at the interpreter running the tests.
    bin_dir = Path(env["HOTLINE_DATA_DIR"]).parent / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "hotline").symlink_to(HOTLINE)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", _block()], env={**env, "HOTLINE_URL": url},
                            cwd=bin_dir.parents[1], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"registered \d{8}-\d{6}", out)
    assert "夏县水利局" in out  # the catalogue's suggestion
    for label in ("已签收", "办理中", "反馈待审", "待回访", "已回访", "已办结"):
        assert label in out
    timeline = [line for line in out.splitlines() if "→" in line]
    actions = [line.split()[1] for line in timeline]
    assert actions == ["受理", "派单", "签收", "联系来电人", "提交反馈", "审核通过", "回访", "办结"], timeline
