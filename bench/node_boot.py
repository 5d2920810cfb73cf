"""Boot to online: process start -> `online` and the first `status` seen by a subscriber.

    python bench/node_boot.py [--runs 10]

Runs an idle node (status only) against a private mosquitto on loopback, on CPython and on the
MicroPython unix port (from .py and from .mpy), and prints min/median/max in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from node_common import (
    Mosquitto,
    Watcher,
    build_mpy,
    node_command,
    node_env,
    stop_node,
    write_config,
)


def boot_once(runtime: str, port: int, watcher: Watcher, root: Path) -> float | None:
    folder = Path(tempfile.mkdtemp(prefix="node-boot-"))
    config, device_id = write_config(folder, port)
    mark = len(watcher.events)
    start = time.time_ns()
    proc = subprocess.Popen(
        node_command(runtime, config, root=root),
        env=node_env(runtime, root),
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        online = watcher.wait(f"home/{device_id}/available", 10, mark)
        status = watcher.wait(f"home/{device_id}/status", 10, mark)
    finally:
        stop_node(proc)
    if online is None or status is None:
        return None
    return (max(online, status) - start) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    from node_common import REPO

    mpy_root = build_mpy()
    cases = [("cpython", "cpython", REPO), ("micropython", "unix .py", REPO),
             ("micropython", "unix .mpy", mpy_root)]  # fmt: skip
    with Mosquitto() as broker:
        watcher = Watcher(broker.port)
        print(f"boot to online + status, {args.runs} runs each, mosquitto on loopback")
        print(f"{'runtime':<12} {'min ms':>8} {'median':>8} {'max':>8}  failed")
        for runtime, label, root in cases:
            times = [boot_once(runtime, broker.port, watcher, root) for _ in range(args.runs)]
            ok = [t for t in times if t is not None]
            failed = len(times) - len(ok)
            if ok:
                print(
                    f"{label:<12} {min(ok):8.0f} {statistics.median(ok):8.0f} {max(ok):8.0f}  {failed}"
                )
            else:
                print(f"{label:<12} {'-':>8} {'-':>8} {'-':>8}  {failed}")
        watcher.close()


if __name__ == "__main__":
    main()
