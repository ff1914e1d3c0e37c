"""The entry point of the web processes (``uvicorn hotline.web.asgi:app``, ``hotline serve --workers N``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

# A web process as uvicorn runs it: uvicorn's handlers for SIGINT and SIGTERM only note the signal
# (it acts on it once the app has loaded and started). The load is made to take a minute, and the
# process is sent SIGTERM in the middle of it (when hotline.web.app is first imported).
LOADING = r"""
import os, signal, sys, time
noted = []
for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda signum, frame: noted.append(signum))

class SlowLoad:
    def find_spec(self, name, path=None, target=None):
        if name == "hotline.web.app":
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(60)
        return None

sys.meta_path.insert(0, SlowLoad())
import hotline.web.asgi
print("loaded; noted", noted, flush=True)
"""


def test_a_web_process_asked_to_stop_while_it_loads_stops_at_once(tmp_path: Path):
    """``hotline serve --workers 2`` stopped soon after its start waited for each web process to load
    the whole site first (half a minute and more on a busy machine): the stop is now taken at once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_DATA_DIR=str(tmp_path), PYTHONPATH=str(Path(__file__).parents[2] / "src"))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", LOADING], env=env, capture_output=True, text=True, timeout=120)
    assert time.monotonic() - started < 30, done.stdout
    assert done.returncode == 0 and "loaded" not in done.stdout, done.stdout + done.stderr


def test_once_loaded_the_stop_is_uvicorns_again(tmp_path: Path):
    """After loading, SIGINT and SIGTERM are uvicorn's again (a graceful stop that finishes the
    requests being answered)."""
    code = ("import signal\nmark = lambda signum, frame: None\n"
            "signal.signal(signal.SIGINT, mark); signal.signal(signal.SIGTERM, mark)\n"
            "import hotline.web.asgi\n"
            "print(signal.getsignal(signal.SIGINT) is mark and signal.getsignal(signal.SIGTERM) is mark)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_DATA_DIR=str(tmp_path), PYTHONPATH=str(Path(__file__).parents[2] / "src"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "True", done.stdout + done.stderr


WARMING = r"""
import sys, threading
import hotline.web.asgi
warm = [t for t in threading.enumerate() if t.name == "hotline-warm-up"]
print("site loaded; warming in the background:", [t.daemon for t in warm])
for t in warm:
    t.join(120)
import jieba
print("loaded:", all(m in sys.modules for m in ("sklearn.feature_extraction.text", "scipy.cluster.hierarchy")),
      jieba.dt.initialized)
"""


def test_a_web_process_loads_the_hot_spots_libraries_as_it_starts_not_at_the_first_request(tmp_path: Path):
    """The first on-demand hot spots (``GET /api/v1/analytics/hotspots``) of a web process took 5.4 s
    on the demo, every later one 0.75 s: scikit-learn, SciPy's clustering and jieba's dictionary were
    loaded by that request. The process now loads them in the background once its site is loaded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_DATA_DIR=str(tmp_path), PYTHONPATH=str(Path(__file__).parents[2] / "src"))
    done = subprocess.run([sys.executable, "-c", WARMING], env=env, capture_output=True, text=True, timeout=180)
    lines = done.stdout.strip().splitlines()
    assert lines[-2:] == ["site loaded; warming in the background: [True]", "loaded: True True"], done.stdout + done.stderr
