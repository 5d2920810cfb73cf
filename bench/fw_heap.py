"""Heap figures with the code FROZEN into the firmware, beside .py and .mpy, on one binary.

    python3 bench/fw_heap.py                 # hold 60 s; writes the RESULTS.md section
    python3 bench/fw_heap.py --quick         # hold 10 s, nothing written
    python3 bench/fw_heap.py --source DIR    # a MicroPython tree or tarball (default: as tools/firmware.py)
    python3 bench/fw_heap.py --bits 32       # 4-byte words, as on a board (needs gcc-multilib)
    python3 bench/fw_heap.py --nodes         # the two node figures only, nothing written
    python3 bench/fw_heap.py --nodes --kinds frozen

tools/firmware.py builds (or takes from its cache) the unix port with pysmartnode and mqtt_as
frozen in. Every figure here runs on that one binary (64-bit, or 32-bit with --bits 32: the
heap figures a board's free RAM compares with), so .py, .mpy and frozen differ
only in where the code lives:
- .py: the repository's sources first on the path (compiled at import, into the heap);
- .mpy: tools/build.py's tree (bytecode loaded into the heap);
- frozen: a folder holding only main.py and config.py; the code stays in the firmware image.

Figures: the smallest `-X heapsize` (1 KiB bisection, confirmed) at which (a) the client alone
(bench/client_mp_ram.py: connect, subscribe, 100 QoS 1 publishes, no fault), (b) the idle
node (status only) and (c) a node with 5 sensors + 3 switches (NODE_5_3: Linux components of
the library, pysmartnode/components/unix/, as a components.py beside config.py) run, the node
held --hold seconds and then still answering a status request (for (c) one that counts all 8
components built and none failed), with no error, critical or MemoryError line in its output
(at the edge a node may live and answer while its discovery publication failed). The components are the unix/ ones because the unix port has
no hardware: sensors on tests/fakes would add the fakes' own code to the heap. Bundle sizes: the
.mpy bytes of tools/build.py's tree, core (no components) and core + all components.
Then where the heap goes: gc.mem_alloc() deltas per import (bench/heap_imports.py) and, for the
idle node at steady state, the heap map of micropython.mem_info(1) counted by block type.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from node_common import Mosquitto, Watcher, stop_node, write_config  # noqa: E402

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
EXT = REPO / "external_modules"
RESULTS = BENCH / "RESULTS.md"
SECTION = "## Heap, frozen vs .mpy vs .py"  # + " (32-bit)" for --bits 32
KINDS = ("py", "mpy", "frozen")
# micropython.mem_info(1) block types (py/gc.c gc_dump_alloc_table)
BLOCK_TYPES = {
    "h": "untyped: bytecode (.py/.mpy), instances, closures, buffers' memory, qstr pools",
    "B": "function objects (one per def or lambda, frozen code too)",
    "M": "modules",
    "D": "dicts",
    "L": "lists",
    "T": "tuples",
    "S": "str / bytes",
    "A": "bytearray / array",
    "F": "floats",
}


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location("fw_heap_" + name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class Setup:
    """The firmware, the .mpy tree and, per kind, how to run the client and the node."""

    def __init__(self, fw, tmp: Path) -> None:
        self.fw = fw
        self.tmp = tmp
        build = load_tool("build")
        self.mpy = tmp / "mpy"
        build.build(self.mpy, mpy_cross=str(fw.mpy_cross))
        self.frozen = tmp / "frozen"
        self.frozen.mkdir()
        shutil.copy(REPO / "main.py", self.frozen / "main.py")

    def path(self, kind: str) -> str:
        """MICROPYPATH: the kind's code first, then the firmware's frozen modules."""
        if kind == "py":
            return f"{REPO}:{EXT}:.frozen"
        if kind == "mpy":
            return f"{self.mpy}:.frozen"
        return ".frozen"

    def main_py(self, kind: str) -> Path:
        return {"py": REPO, "mpy": self.mpy, "frozen": self.frozen}[kind] / "main.py"

    def env(self, kind: str) -> dict:
        return {**os.environ, "MICROPYPATH": self.path(kind)}


def bisect(ok, confirm: int = 2) -> int | None:
    """Smallest KiB in (8, 512] for which ok(kib) holds: tools/client_heap.py's bisection."""
    return load_tool("client_heap").bisect(ok, 8, 512, confirm)


# --------------------------------------------------------------------------- (a) the client


def client_ok(s: Setup, kind: str, port: int, kib: int | None) -> tuple[int, int] | None:
    heap = ["-X", f"heapsize={kib}k"] if kib else []
    try:
        r = subprocess.run(
            [str(s.fw.micropython), *heap, str(BENCH / "client_mp_ram.py"), str(port)],
            capture_output=True, text=True, timeout=20, env=s.env(kind), cwd=s.tmp,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None
    m = re.search(r"^OK (\d+) (\d+) 0$", r.stdout, re.M)
    return (int(m.group(1)), int(m.group(2))) if r.returncode == 0 and m else None


def client_figures(s: Setup, port: int) -> dict:
    out = {}
    for kind in KINDS:
        base = client_ok(s, kind, port, None)
        kib = bisect(lambda k, kind=kind: client_ok(s, kind, port, k) is not None)
        out[kind] = {"heap_k": kib, "connected": base[1] if base else None}
        print(f"client {kind:6} smallest heap {kib} KiB; in use once connected {out[kind]['connected']}", flush=True)  # fmt: skip
    return out


# --------------------------------------------------------------------------- (b) the idle node


def node_run(
    s: Setup, kind: str, port: int, kib: int | None, hold: float, components=None, node=None
):
    """The node's last status if it lived `hold` s at this heap and then answered; else None.
    With `components`, that file runs as components.py and the node's output is returned too.
    With `node` (a COMPONENTS dict), that is the components.py, and the status must count all
    of them built, none failed."""
    folder = Path(tempfile.mkdtemp(prefix="fw-heap-", dir=s.tmp))
    config, device_id = write_config(folder, port, WATCHDOG_TIMEOUT=30)
    if components is not None:
        shutil.copy(components, folder / "components.py")
    if node is not None:
        (folder / "components.py").write_text(components_py(node, folder))
    main = s.main_py(kind)
    if kind == "frozen":  # only main.py and config.py in the folder the node runs in
        shutil.copy(main, folder / "main.py")
        main = folder / "main.py"
    heap = ["-X", f"heapsize={kib}k"] if kib else []
    watcher = Watcher(port)
    proc = subprocess.Popen(
        [str(s.fw.micropython), *heap, str(main), "--config", str(config)],
        env=s.env(kind), cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    topic = f"home/{device_id}/status"
    status = None

    def first_status() -> bool:  # within 10 s, and no longer than the node lives
        for _ in range(40):
            if watcher.wait(topic, 0.25) is not None:
                return True
            if proc.poll() is not None:
                return False
        return False

    try:
        if first_status():
            try:
                proc.wait(timeout=hold)  # it ended during the hold: no figure
            except subprocess.TimeoutExpired:
                mark = len(watcher.events)
                watcher.client.publish(topic + "/set", "now", qos=1)
                if watcher.wait(topic, 10, mark) is not None and proc.poll() is None:
                    last = [p for _, t, p in watcher.events[mark:] if t == topic][-1]
                    status = json.loads(last)
                    if node is not None and (
                        status.get("components") != len(node) or status.get("components_failed")
                    ):
                        status = None
    finally:
        stop_node(proc)
        output = proc.stdout.read().decode(errors="replace")
        proc.stdout.close()
        watcher.close()
        shutil.rmtree(folder, ignore_errors=True)
    if status is not None and unwell(output):
        status = None  # alive and answering, but something (discovery, a reading) failed
    return (status, output) if components is not None else status


def unwell(output: str) -> str | None:
    """The first line of a node's output that says a part of it failed (an error, a critical
    line, a MemoryError anywhere): at the edge a node may live on and answer its status while
    its discovery publication or a component failed for want of heap; that heap is too small."""
    for line in output.splitlines():
        if "MemoryError" in line or "[error]" in line or "[critical]" in line:
            return line
    return None


# (c): 5 sensors + 3 switches of the library's Linux components (the unix port has no hardware)
NODE_5_3 = {
    "load": {"package": ".unix.load", "component": "CPULoad"},
    "memory": {"package": ".unix.memory", "component": "Memory"},
    "disk": {"package": ".unix.disk", "component": "Disk", "constructor_args": {"path": "/"}},
    "uptime": {"package": ".unix.uptime", "component": "Uptime"},
    "open_files": {
        "package": ".unix.file_value",
        "component": "FileValue",
        "constructor_args": {"path": "/proc/sys/fs/file-nr"},
    },
    "lamp": {"package": ".unix.file_switch", "component": "FileSwitch"},
    "pump": {"package": ".unix.file_switch", "component": "FileSwitch"},
    "fan": {"package": ".unix.command_switch", "component": "CommandSwitch"},
}


def components_py(node: dict, folder: Path) -> str:
    """components.py holding `node`, the switches' files in the run's own folder."""
    node = json.loads(json.dumps(node))
    for name, spec in node.items():
        args = spec.setdefault("constructor_args", {})
        if spec["component"] == "FileSwitch":
            args["path"] = str(folder / name)
        elif spec["component"] == "CommandSwitch":
            args.update(on="touch %s" % (folder / name), off="rm -f %s" % (folder / name))
    return "COMPONENTS = %r\n" % node


def node_figures(s: Setup, port: int, hold: float, node=None, label="node", kinds=KINDS) -> dict:
    out = {}
    for kind in kinds:
        edge = bisect(
            lambda k, kind=kind: node_run(s, kind, port, k, 3, node=node) is not None, confirm=0
        )
        result = {"heap_k": None}
        if edge is not None:  # the full hold, side by side, from the edge up
            candidates = [edge, edge + 1, edge + 2, edge + 4, edge + 8]
            with ThreadPoolExecutor(len(candidates)) as pool:
                runs = list(
                    pool.map(
                        lambda k, kind=kind: node_run(s, kind, port, k, hold, node=node),
                        candidates,
                    )
                )
            for kib, status in zip(candidates, runs, strict=True):
                if status is not None:
                    result = {"heap_k": kib, "ram_free": status.get("ram_free")}
                    break
        out[kind] = result
        print(f"{label:6} {kind:6} smallest heap {result['heap_k']} KiB (held {hold:g} s); free there {result.get('ram_free')}", flush=True)  # fmt: skip
    return out


# what an idle node imports from pysmartnode/components/: the built-in status
_BUILT_IN = {
    "pysmartnode/components/__init__.mpy",
    "pysmartnode/components/machine/__init__.mpy",
    "pysmartnode/components/machine/status.mpy",
}


def bundle_sizes(s: Setup) -> dict:
    """.mpy bytes of tools/build.py's tree: core (everything but pysmartnode/components/, the
    built-in status counted in; the client mqtt_as too) and core + all components;
    main.py/boot.py (source) and data files not counted."""
    core = comps = client = 0
    for f in s.mpy.rglob("*.mpy"):
        rel = f.relative_to(s.mpy).as_posix()
        if rel.startswith("mqtt_as/"):
            client += f.stat().st_size
        if rel.startswith("pysmartnode/components/") and rel not in _BUILT_IN:
            comps += f.stat().st_size
        else:
            core += f.stat().st_size
    return {"core": core, "all": core + comps, "mqtt_as": client}


# --------------------------------------------------------------------------- breakdown


def imports(s: Setup, kind: str) -> dict:
    r = subprocess.run(
        [str(s.fw.micropython), str(BENCH / "heap_imports.py")],
        capture_output=True, text=True, timeout=60, env=s.env(kind), cwd=s.tmp,
    )  # fmt: skip
    out = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in ("IMPORT", "TOTAL") and parts[-1].lstrip("-").isdigit():
            out[parts[1] if parts[0] == "IMPORT" else "TOTAL"] = int(parts[-1])
    return out


def heap_map(output: str, bits: int = 64) -> dict:
    """Bytes per block type in a mem_info(1) heap map ('=' tails count for their head)."""
    text = output.split("HEAP alloc", 1)[-1]
    m = re.search(r"GC memory layout; from [0-9a-fx]+:\n(.*?)HEAP end", text, re.S)
    if not m:
        return {}
    total = re.search(r"GC: total: (\d+)", text)
    blocks = Counter()
    last = None
    for line in m.group(1).splitlines():
        if not re.match(r"^[0-9a-f]{8}: ", line):
            continue
        for ch in line[10:]:
            if ch == "=":
                if last:
                    blocks[last] += 1
            elif ch == ".":
                last = None
            else:
                last = ch
                blocks[ch] += 1
    width = 4 * bits // 8  # bytes per block: 4 words
    out = {BLOCK_TYPES.get(k, k): v * width for k, v in blocks.most_common()}
    if total:
        out["_heap_total"] = int(total.group(1))
    alloc = re.search(r"^ alloc (\d+) free (\d+)", output.split("HEAP", 1)[-1], re.M)
    if alloc:
        out["_alloc"] = int(alloc.group(1))
    return out


def breakdown(s: Setup, port: int, delay: float) -> dict:
    out = {"imports": {k: imports(s, k) for k in KINDS}, "map": {}}
    probe = s.tmp / "heap_probe.py"
    probe.write_text(
        (BENCH / "heap_probe_components.py").read_text().replace("DELAY = 20", f"DELAY = {delay:g}")
    )
    for kind in KINDS:
        status, output = node_run(s, kind, port, 512, delay + 3, components=probe)
        out["map"][kind] = heap_map(output, s.fw.bits)
    return out


# --------------------------------------------------------------------------- report


def render(res: dict, hold: float, info: str) -> str:
    c, n, b, n53, size = res["client"], res["node"], res["breakdown"], res["node53"], res["bundle"]

    def k(v):
        return f"{v} KiB" if v else "FAILED"

    lines = [
        info,
        "",
        "| smallest `-X heapsize` (%d-bit unix port) | .py | .mpy | frozen |" % res["bits"],
        "|---|---|---|---|",
        "| (a) the client alone: connect, subscribe, 100 QoS 1 publishes | "
        + " | ".join(k(c[x]["heap_k"]) for x in KINDS) + " |",
        f"| (b) the idle node: {hold:g} s, then answers a status request | "
        + " | ".join(
            k(n[x]["heap_k"]) + (f" ({n[x]['ram_free'] / 1024:.1f} KiB free)" if n[x].get("ram_free") else "")
            for x in KINDS
        ) + " |",
        f"| (c) 5 sensors + 3 switches (Linux components): {hold:g} s, then a status request counting all 8 | "
        + " | ".join(
            k(n53[x]["heap_k"]) + (f" ({n53[x]['ram_free'] / 1024:.1f} KiB free)" if n53[x].get("ram_free") else "")
            for x in KINDS
        ) + " |",
        "| `gc.mem_alloc()` of the client once connected | "
        + " | ".join(f"{c[x]['connected'] or 0:,} B" for x in KINDS) + " |",
        "",
        "(c) runs " + ", ".join(f"{name} ({spec['package']})" for name, spec in NODE_5_3.items())
        + " as a components.py beside config.py.",
        "",
        f"Bundle, `.mpy` bytes of tools/build.py's tree: core {size['core']:,} B "
        f"({size['core'] / 1024:.1f} KiB, of which the client mqtt_as "
        f"{size.get('mqtt_as', 0):,} B); core + all components {size['all']:,} B "
        f"({size['all'] / 1024:.1f} KiB).",
        "",
        "| target (frozen, 64-bit) | verdict |",
        "|---|---|",
        f"| idle node ≤ 32 KiB | {verdict(n['frozen']['heap_k'], 32)} |",
        f"| 5 sensors + 3 switches ≤ 48 KiB | {verdict(n53['frozen']['heap_k'], 48)} |",
        "",
        "Heap taken by each import (`gc.mem_alloc()` after a collection, before and after; in "
        "start-up order, a module's own imports counted where they first happen):",
        "",
        "| module | .py | .mpy | frozen |",
        "|---|---|---|---|",
    ]  # fmt: skip
    names = list(b["imports"]["frozen"]) or list(b["imports"]["mpy"])
    for name in names:
        lines.append(
            f"| {name} | " + " | ".join(f"{b['imports'][x].get(name, 0):,}" for x in KINDS) + " |"
        )
    lines += [
        "",
        "The idle node at steady state (a components.py that waits, collects, then prints "
        "`micropython.mem_info(1)`; 512 KiB heap), bytes by block type:",
        "",
        "| block type | .py | .mpy | frozen |",
        "|---|---|---|---|",
    ]
    types = [t for t in BLOCK_TYPES.values() if any(t in b["map"][x] for x in KINDS)]
    for t in types:
        lines.append(f"| {t} | " + " | ".join(f"{b['map'][x].get(t, 0):,}" for x in KINDS) + " |")
    lines.append(
        "| total in use (`gc.mem_alloc()`) | "
        + " | ".join(f"{b['map'][x].get('_alloc', 0):,}" for x in KINDS)
        + " |"
    )
    return "\n".join(lines)


def verdict(kib: int | None, target: int) -> str:
    if not kib:
        return "not measured"
    return f"**met** ({kib} KiB)" if kib <= target else f"**MISSED** ({kib} KiB)"


def write_section(table: str, bits: int) -> None:
    section = SECTION + (" (32-bit)" if bits == 32 else "")
    text = RESULTS.read_text()
    body = f"{section}\n\nWritten by `python3 bench/fw_heap.py` (see its docstring).\n\n{table}\n"
    if section + "\n" in text:
        head, _, rest = text.partition(section + "\n")
        nxt = rest.find("\n## ")
        text = head + body + (rest[nxt:] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    RESULTS.write_text(text)


def firmware_and_source(source: Path | None, tool: str):
    """tools/firmware.py and the MicroPython source to build from: `source` (--source), else the
    one firmware.py finds; None for the source, said on stderr, when there is none."""
    firmware = load_tool("firmware")
    source = source or firmware.find_source()
    if source is None:
        print(f"{tool}: no MicroPython source: " + firmware.SOURCE_HINT, file=sys.stderr)
        return firmware, None
    return firmware, Path(source)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="hold 10 s; RESULTS.md untouched")
    ap.add_argument("--hold", type=float, help="seconds the idle node must live (default 60)")
    ap.add_argument("--source", type=Path, help="MicroPython source (tools/firmware.py)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--bits", type=int, choices=(32, 64), default=64)
    ap.add_argument("--nodes", action="store_true", help="the node figures only; nothing written")
    ap.add_argument("--kinds", default=",".join(KINDS), help="with --nodes: e.g. frozen,mpy")
    args = ap.parse_args(argv)
    hold = args.hold or (10.0 if args.quick else 60.0)
    firmware, source = firmware_and_source(args.source, "fw_heap")
    if source is None:
        return 2
    started = time.monotonic()
    fw = firmware.build_firmware(source, bits=args.bits)
    info = (
        f"MicroPython {fw.version} unix port, {fw.bits}-bit, built by tools/firmware.py with "
        f"pysmartnode and mqtt_as frozen; mosquitto on loopback; {time.strftime('%Y-%m-%d')}; "
        f"idle node held {hold:g} s."
    )
    with tempfile.TemporaryDirectory(prefix="bench-fw-heap-") as tmp, Mosquitto() as broker:
        s = Setup(fw, Path(tmp))
        if args.nodes:  # a quick before/after of a change: (b), (c) and the bundle
            for label, node in (("node", None), ("5+3", NODE_5_3)):
                node_figures(s, broker.port, hold, node, label, args.kinds.split(","))
            print("bundle", bundle_sizes(s), f"total {time.monotonic() - started:.0f} s")
            return 0
        res = {
            "bits": fw.bits,
            "client": client_figures(s, broker.port),
            "node": node_figures(s, broker.port, hold),
            "node53": node_figures(s, broker.port, hold, node=NODE_5_3, label="5+3"),
            "bundle": bundle_sizes(s),
            "breakdown": breakdown(s, broker.port, min(hold, 20.0)),
        }
    table = render(res, hold, info)
    print(table)
    out = BENCH / "out"
    out.mkdir(exist_ok=True)
    (out / f"fw-heap-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(res, indent=1))
    failed = [
        f"{what} {k}"
        for what in ("client", "node", "node53")
        for k in KINDS
        if not res[what][k]["heap_k"]
    ]
    if not args.quick and not args.no_write and not failed:
        write_section(table, fw.bits)
    print(f"total {time.monotonic() - started:.0f} s")
    for f in failed:
        print("FAILED:", f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
