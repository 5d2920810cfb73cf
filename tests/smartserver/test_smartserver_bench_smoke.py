"""bench/fleet_bench.py still runs end to end (quick mode); its figures are read by people."""

from __future__ import annotations

import subprocess
import sys

import pytest
from harness import REPO, require_tool


@pytest.mark.xdist_group("bench")  # one benchmark at a time: each loads the machine in bursts
@pytest.mark.slow
def test_fleet_benchmark_runs_to_the_end():
    require_tool("mosquitto", "apt-get install mosquitto")
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "fleet_bench.py"), "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "rejected: 0" in proc.stdout
