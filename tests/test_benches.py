"""Every benchmark under bench/ offers ``--quick`` (the same measurement on smaller sizes), as README.md
promises. Running them is the benchmarks' job, not the suite's: only their command lines are checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if '__name__ == "__main__"' in p.read_text(encoding="utf-8"))


def test_the_benchmarks_are_found():
    assert {"classify.py", "duplicates.py", "incidents.py", "places.py"} <= {p.name for p in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_each_benchmark_offers_quick(script: Path):
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120,
                          cwd=BENCH.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--quick" in done.stdout
