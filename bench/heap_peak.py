"""The first connect's heap, turn by turn: what is live at the node's peak, and when.

    python3 bench/heap_peak.py                  # idle node and 5+3 node: the live heap per step
    python3 bench/heap_peak.py --only idle --census      # and what the peak holds beyond steady
    python3 bench/heap_peak.py --heap 48 --map  # on a 48 KiB heap: the free runs at the peak
    python3 bench/heap_peak.py --census --raw DIR        # keep the raw output

The smallest heap a node runs in lies above its steady state: at the first connect the log lines,
the subscriptions, `online`, Home Assistant's discovery and the first status report are all made
and sent in a short while. This tool runs the frozen node of bench/fw_heap.py (512 KiB heap, or
--heap) with a probe as its components.mpy: a task that, at every turn of the event loop from
before the connect until AFTER turns past the first status report, collects the garbage and
reads `gc.mem_alloc()`, the live heap at that turn. It prints the node's steps (connected,
subscriptions synced, log lines queued, discovery loaded or published, the status reported),
each with the live heap at its start and the largest of the step before; then the peak, where
it was, and the steady state 2 s later.

--census (the debug firmware of bench/heap_census.py) runs the node twice: the second run takes
a census at every new high from the first run's peak less MARGIN bytes on, and one at the steady
state; the last high's census is summed by owner and kind, and less the steady one (the runs
differ a little: the census is of the second run's own peak). --map prints the heap map at each
new high and sums the last one's free runs by length: how fragmented the heap is at the peak.

The probe's code and frame are on the heap in every sample (~1 KB), and the probe's config has
no watchdog: compare figures of this tool with each other, not with fw_heap's or the census's.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fw_heap  # noqa: E402
import heap_census  # noqa: E402
from node_common import Mosquitto, stop_node, write_config  # noqa: E402

PROBE = """
import asyncio
import gc
import sys

import micropython

from pysmartnode import node


def _step():
    c = node.mqtt._client if node.mqtt else None
    d = node.discovery
    q = sys.modules["pysmartnode.logging.logger"]._queue
    return "conn=%s sync=%s logq=%d outq=%d infl=%d gate=%s pubs=%s reports=%s" % (
        c._connected if c else "-",
        node.mqtt._synced if node.mqtt else "-",
        len(q),
        len(c._outq) if c else 0,
        len(c._inflight) if c else 0,
        d.ready() if d is not None else "-",  # discovery.py leaves sys.modules at once: its gate
        d.publications if d is not None else "-",
        node.status.reports if node.status else "-",
    )


async def _peak():
    census_at = CENSUS_AT
    turns = top = step_top = 0
    base = None
    last = None
    end = None
    while True:
        await asyncio.sleep_ms(0)
        turns += 1
        gc.collect()
        alloc = gc.mem_alloc()
        if base is None:
            base = alloc
        step = _step()
        if step != last:
            print("PEAK step %d %d %d %s" % (turns, step_top, alloc, step))
            last = step
            step_top = 0
        step_top = max(step_top, alloc)
        if alloc > top:
            top = alloc
            print("PEAK top %d %d %s" % (turns, alloc, step))
            if MAP:
                print("PEAK map", turns, alloc)
                micropython.mem_info(1)
                print("PEAK map end")
            if census_at and alloc >= census_at:
                gc.collect()
                print("PEAK census", turns, gc.mem_alloc())
                micropython.mem_info(1)
        if end is None and node.status is not None and node.status.reports:
            end = turns + AFTER
        if end is not None and turns >= end:
            break
    await asyncio.sleep(2)
    gc.collect()
    print("PEAK steady", gc.mem_alloc())
    if census_at:
        print("PEAK census steady")
        micropython.mem_info(1)
    print("PEAK done")


asyncio.create_task(_peak())
"""


def run(s, port: int, node, census_at: int, after: int, kib: int = 512, heap_map=False) -> str:
    """The node's output, once its probe is done (or after 120 s)."""
    with tempfile.TemporaryDirectory(prefix="bench-peak-", dir=s.tmp) as tmp:
        folder = Path(tmp)
        text = PROBE.replace("CENSUS_AT", str(census_at)).replace("AFTER", str(after))
        text = text.replace("MAP", str(heap_map))
        if node is not None:
            text = fw_heap.components_py(node, folder) + text
        # compiled here: compiling it on the node takes more heap than a small heap has
        (folder / "components_src.py").write_text(text)
        subprocess.run(
            [str(s.fw.mpy_cross), "-o", str(folder / "components.mpy"), "components_src.py"],
            cwd=folder, check=True,
        )  # fmt: skip
        # A census stops the loop for seconds: no watchdog, a long keepalive
        config, _ = write_config(folder, port, WATCHDOG_TIMEOUT=0, MQTT_KEEPALIVE=120)
        shutil.copy(s.main_py("frozen"), folder / "main.py")
        log = folder / "out.txt"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [str(s.fw.micropython), "-X", "heapsize=%dk" % kib, "main.py", "--config", str(config)],
                env=s.env("frozen"), cwd=folder, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and proc.poll() is None:
                    if b"PEAK done" in log.read_bytes():
                        break
                    time.sleep(0.5)
            finally:
                stop_node(proc)
        return log.read_text(errors="replace")


def summary(label: str, output: str, top: int, census: bool) -> str:
    lines = ["## " + label, ""]
    steps = re.findall(r"^PEAK step (\d+) (\d+) (\d+) (.*)$", output, re.M)
    tops = re.findall(r"^PEAK top (\d+) (\d+) (.*)$", output, re.M)
    steady = re.search(r"^PEAK steady (\d+)", output, re.M)
    lines.append("| turn | live at the step's start | the step's peak before | step |")
    lines.append("|---|---|---|---|")
    for turn, before, alloc, step in steps:
        lines.append("| %s | %s | %s | %s |" % (turn, alloc, before, step))
    if tops:
        turn, alloc, step = tops[-1]
        lines += ["", "peak %s B at turn %s (%s)" % (alloc, turn, step)]
    if steady:
        lines.append("steady %s B, 2 s after" % steady.group(1))
    if "PEAK map" in output:
        lines += ["", holes(output)]
    if census:
        blocks = [b[: b.find("CEN end") + len("CEN end")] for b in output.split("PEAK census")]
        if len(blocks) > 2:
            peak, steady = blocks[-2], blocks[-1]
            lines += ["", heap_census.report(label + ": the peak's census", peak, top)]
            lines += ["", diff(label, peak, steady, top)]
    return "\n".join(lines) + "\n"


def holes(output: str) -> str:
    """The free runs of the last heap map (mem_info(1)) at the highest live heap: how the free
    blocks lie, by run length."""
    maps = re.split(r"PEAK map (?=\d)", output)
    if len(maps) < 2:
        return ""
    text = maps[-1].split("PEAK map end")[0]
    cells = []
    for line in text.splitlines():
        m = re.match(r"^([0-9a-f]{8}): (.*)$", line)
        if m:
            cells.append(m.group(2).rstrip())
        m = re.match(r"^\s*\((\d+) lines all free\)", line)
        if m:
            cells.append("." * 64 * int(m.group(1)))
    blocks = "".join(cells)
    runs = [len(r) for r in re.findall(r"\.+", blocks)]
    counts = Counter(min(r, 9) for r in runs)
    head = text.splitlines()[0] if text else ""
    parts = ", ".join("%s%s: %d" % (n, "+" if n == 9 else "", counts[n]) for n in sorted(counts))
    return "map at %s: %d blocks, %d free in %d runs (blocks per run: %s); largest %d" % (
        head,
        len(blocks),
        sum(runs),
        len(runs),
        parts,
        max(runs or [0]),
    )


def diff(label: str, peak: str, steady: str, top: int) -> str:
    """The owners and kinds the peak holds beyond the steady state of the same run."""
    pk, po, ps = heap_census.summarise(heap_census.parse(peak))
    sk, so, ss = heap_census.summarise(heap_census.parse(steady))
    lines = ["### %s: the peak less the steady state" % label, "", "| kind | bytes |", "|---|---|"]
    kinds = pk.copy()
    kinds.subtract(sk)
    lines += ["| %s | %+d |" % kv for kv in kinds.most_common() if kv[1]]
    lines += ["", "| owner | bytes | of which |", "|---|---|---|"]
    owners = po.copy()
    owners.subtract(so)
    for owner, size in owners.most_common(top):
        if size <= 0:
            break
        split = ps[owner].copy()
        split.subtract(ss.get(owner, {}))
        parts = ", ".join("%s %+d" % kv for kv in split.most_common(4) if kv[1])
        lines.append("| %s | %+d | %s |" % (owner, size, parts))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, help="MicroPython source (tools/firmware.py)")
    ap.add_argument("--only", choices=("idle", "5+3"), help="one node only")
    ap.add_argument("--census", action="store_true", help="a census at the peak (debug build)")
    ap.add_argument("--margin", type=int, default=256, help="census from the peak less this (B)")
    ap.add_argument("--after", type=int, default=400, help="turns after the first report")
    ap.add_argument("--top", type=int, default=30, help="owner rows of the census")
    ap.add_argument("--heap", type=int, default=512, help="-X heapsize in KiB (default 512)")
    ap.add_argument("--map", action="store_true", help="the heap map's free runs at the peak")
    ap.add_argument("--raw", type=Path, help="a folder to keep each node's raw output in")
    args = ap.parse_args(argv)
    firmware, source = fw_heap.firmware_and_source(args.source, "heap_peak")
    if source is None:
        return 2
    if args.census:
        fw = heap_census.census_firmware(firmware, source)
    else:
        fw = firmware.build_firmware(source, bits=64)
    with tempfile.TemporaryDirectory(prefix="bench-peak-") as tmp, Mosquitto() as broker:
        s = fw_heap.Setup(fw, Path(tmp))
        for label, node in (("idle node", None), ("5 sensors + 3 switches", fw_heap.NODE_5_3)):
            if args.only and args.only != ("idle" if node is None else "5+3"):
                continue
            output = run(s, broker.port, node, 0, args.after, args.heap, args.map)
            peak = re.findall(r"^PEAK top \d+ (\d+)", output, re.M)
            if args.census and peak:  # again, a census at each high from just below that peak
                output = run(s, broker.port, node, int(peak[-1]) - args.margin, args.after)
            if args.raw:
                args.raw.mkdir(parents=True, exist_ok=True)
                (args.raw / ("idle.txt" if node is None else "5+3.txt")).write_text(output)
            if "PEAK steady" not in output:
                print("heap_peak: the %s gave no figure:\n%s" % (label, output[-3000:]))
                return 1
            print(summary(label, output, args.top, args.census))
    return 0


if __name__ == "__main__":
    sys.exit(main())
