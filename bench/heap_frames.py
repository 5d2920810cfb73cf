"""Which functions put their frame on the heap while they run (MicroPython, no pystack).

    python3 bench/heap_frames.py              # every such function of the device tree, largest first
    python3 bench/heap_frames.py --all        # every function, with its frame's size
    python3 bench/heap_frames.py --bits 32    # a board's words (4 bytes; the limit is 44 B)
    python3 bench/heap_frames.py --check      # exit 1 if a function of HOT has its frame on the heap

MicroPython's VM (py/objfun.c, fun_bc_call) gives a called function's frame a block of the heap
when its state is larger than 11 words (`VM_MAX_STATE_ON_STACK`: 88 B on 64-bit); a smaller one
goes on the C stack. The state is the function's locals and value stack (`n_state` words) and
3 words per nested `try` (`n_exc_stack`); on the heap it comes with a 5-word header, rounded up
to GC blocks. It is taken (if the heap has room) for as long as the call runs: a chain of such
calls holds them all at once. The node's deepest chains (a log line from inside the client's
connect: six frames, 1.2 KB on 64-bit) were what ran a small heap out at the first connect,
between two of the loop turns bench/heap_peak.py samples. Generators and coroutines keep their
frame in their own object, counted there; they are listed with --all only.

The figures come from the bytecode mpy-cross (of the firmware bench/fw_heap.py builds) makes
of each file, read with the source tree's tools/mpy-tool.py.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fw_heap  # noqa: E402

REPO = fw_heap.REPO
TREES = ("pysmartnode", "external_modules/mqtt_as")
# Called on the node's hot paths (every log line, every publication, every incoming message,
# the connect, the status report): their frames must stay on the C stack. file: functions
HOT = {
    "pysmartnode/main.py": ("run", "_serve"),  # on the stack for the node's life
    "pysmartnode/platform/unix_thread.py": ("Every._run",),  # the watchdog thread's, alike
    "pysmartnode/logging/logger.py": (
        "Logger.log", "Logger.debug", "Logger.info", "Logger.warning", "Logger.error",
        "Logger.critical", "Logger._text", "Logger._line", "Logger._queued",
    ),  # every log line
    "pysmartnode/networking/mqtt_subs.py": ("Subscriptions.__call__",),  # every message, log line
    "pysmartnode/networking/mqtt.py": ("MQTTHandle._callback",),  # the client's log lines
}  # fmt: skip
_PROTO = re.compile(
    r"static const mp_raw_code_(?:truncated_)?t proto_fun_(\w+) = \{(.*?)\n\};", re.S
)
_SCOPE = re.compile(r"// frozen bytecode for file .*?, scope (\w+)")


def frames(mpy_cross: Path, tree: Path, files: list[Path], bits: int = 64) -> list[dict]:
    """One dict per function of files: file, name (Class.method), n_state, n_exc_stack,
    generator, state (bytes) and heap (the block it takes when called; 0 on the C stack)."""
    word = bits // 8
    rows = []
    with tempfile.TemporaryDirectory(prefix="heap-frames-") as tmp:
        for path in files:
            rel = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
            out = Path(tmp) / "x.mpy"
            subprocess.run([str(mpy_cross), "-o", str(out), "-s", rel, str(path)], check=True)
            text = subprocess.run(
                [sys.executable, str(tree / "tools" / "mpy-tool.py"), "-f", str(out)],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            prefix = re.sub(r"\W", "_", rel[:-3])
            for m in _PROTO.finditer(text):
                body = m.group(2)
                fields = dict(re.findall(r"\.(is_generator|n_state|n_exc_stack) = (\d+)", body))
                if len(fields) < 3:
                    continue
                n, e, gen = (
                    int(fields["n_state"]),
                    int(fields["n_exc_stack"]),
                    fields["is_generator"],
                )
                state = word * (n + 3 * e)
                on_heap = gen == "0" and state > 11 * word
                block = 4 * word
                heap = -(-(5 * word + state) // block) * block if on_heap else 0
                name = (
                    m.group(1)[len(prefix) + 1 :] if m.group(1).startswith(prefix) else m.group(1)
                )
                rows.append({"file": rel, "name": _dotted(name), "n_state": n, "n_exc_stack": e,
                             "generator": gen != "0", "state": state, "heap": heap})  # fmt: skip
    return rows


def _dotted(scope: str) -> str:
    # Logger_info -> Logger.info; a module's own code is <module>
    scope = scope.replace("_lt_module_gt_", "<module>").replace("_lt_lambda_gt_", "<lambda>")
    scope = scope.replace("_lt_listcomp_gt_", "<listcomp>").replace("_lt_genexpr_gt_", "<genexpr>")
    head, _, tail = scope.partition("_")
    if head[:1].isupper() and tail:  # Class_method (method names may hold `_` themselves)
        return head + "." + tail
    return scope


def device_files() -> list[Path]:
    return sorted(p for t in TREES for p in (REPO / t).rglob("*.py"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--all", action="store_true", help="every function, not only heap frames")
    ap.add_argument("--bits", type=int, choices=(32, 64), default=64)
    ap.add_argument(
        "--check", action="store_true", help="exit 1 if a HOT function's is on the heap"
    )
    ap.add_argument("--source", type=Path, help="MicroPython source (tools/firmware.py)")
    args = ap.parse_args(argv)
    firmware, source = fw_heap.firmware_and_source(args.source, "heap_frames")
    if source is None:
        return 2
    fw = firmware.build_firmware(source, bits=64)
    tree = (
        source
        if source.is_dir()
        else firmware._unpack(
            source, firmware.cache_root() / ("src-" + firmware._file_hash(source)[:16])
        )
    )  # the tree build_firmware unpacked the tarball into (done once)
    rows = frames(fw.mpy_cross, tree, device_files(), args.bits)
    bad = []
    for r in sorted(rows, key=lambda r: (-r["heap"], r["file"], r["name"])):
        hot = r["name"] in HOT.get(r["file"], ())
        if hot and r["heap"]:
            bad.append(r)
        if r["heap"] or args.all or hot:
            print("%4d B  state %3d B (n_state %2d, try %d)%s  %s  %s%s" % (
                r["heap"], r["state"], r["n_state"], r["n_exc_stack"],
                " gen" if r["generator"] else "    ", r["file"], r["name"], "  [hot]" if hot else ""))  # fmt: skip
    named = {(f, n) for f, names in HOT.items() for n in names}
    missing = named - {(r["file"], r["name"]) for r in rows}
    for f, n in sorted(missing):
        print("heap_frames: no function %s in %s (HOT is out of date)" % (n, f), file=sys.stderr)
    if args.check and (bad or missing):
        for r in bad:
            print(
                "heap_frames: %s %s takes %d B of heap per call" % (r["file"], r["name"], r["heap"])
            )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
