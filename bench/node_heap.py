"""The smallest MicroPython heap an idle node (status only) runs in, from .py and from .mpy.

    python bench/node_heap.py [--hold 60]

On the unix port (64-bit) with `-X heapsize=`: a size passes when the node reaches `online`
and `status`, stays alive for --hold seconds, and still answers a status request at the end.
A bisection with short holds finds the edge; the edge and a few sizes above it then run the
full hold side by side, and the smallest that passes is the figure, with the free heap its
last status reported.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from node_common import (
    REPO,
    Mosquitto,
    Watcher,
    build_mpy,
    node_command,
    node_env,
    stop_node,
    write_config,
)


def run_node(port: int, root: Path, heap_kib: int, hold: float) -> dict | None:
    """The last status report if the node lived through `hold` seconds at this heap, else None."""
    watcher = Watcher(port)
    folder = Path(tempfile.mkdtemp(prefix="node-heap-"))
    config, device_id = write_config(folder, port, WATCHDOG_TIMEOUT=30)
    proc = subprocess.Popen(
        node_command("micropython", config, f"{heap_kib}k", root),
        env=node_env("micropython", root),
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    status_topic = f"home/{device_id}/status"
    try:
        if watcher.wait(status_topic, 10) is None:
            return None
        try:
            proc.wait(timeout=hold)
            return None  # it ended during the hold
        except subprocess.TimeoutExpired:
            pass
        mark = len(watcher.events)
        watcher.client.publish(status_topic + "/set", "now", qos=1)
        if watcher.wait(status_topic, 10, mark) is None or proc.poll() is not None:
            return None
        last = [p for _, t, p in watcher.events[mark:] if t == status_topic][-1]
        return json.loads(last)
    finally:
        stop_node(proc)
        watcher.close()


def smallest(port: int, root: Path, hold: float) -> tuple[int, dict | None]:
    low, high = 8, 512  # KiB: low fails, high passes
    if run_node(port, root, high, 3) is None:
        raise SystemExit(f"the node does not run even in {high} KiB")
    while high - low > 1:
        mid = (low + high) // 2
        if run_node(port, root, mid, 3) is None:
            low = mid
        else:
            high = mid
    candidates = [high, high + 1, high + 2, high + 4, high + 8]
    with ThreadPoolExecutor(len(candidates)) as pool:
        results = list(pool.map(lambda kib: run_node(port, root, kib, hold), candidates))
    for kib, status in zip(candidates, results, strict=True):
        if status is not None:
            return kib, status
    return -1, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hold", type=float, default=60.0)
    args = parser.parse_args()
    mpy_root = build_mpy()
    with Mosquitto() as broker:
        print(f"idle node (status only), unix port, held {args.hold:.0f} s, mosquitto on loopback")
        print(f"{'from':<6} {'smallest heap':>14} {'free there':>11}")
        for label, root in (("py", REPO), ("mpy", mpy_root)):
            kib, status = smallest(broker.port, root, args.hold)
            free = status["ram_free"] if status else 0
            print(f".{label:<5} {kib:>10} KiB {free / 1024:>7.1f} KiB")


if __name__ == "__main__":
    main()
