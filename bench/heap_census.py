"""Where the heap goes, object by object: a census of a live node's heap on a debug firmware.

    python3 bench/heap_census.py                # idle node and 5+3 node, owners table
    python3 bench/heap_census.py --top 60 --raw DIR   # more rows; keep the raw census files
    python3 bench/heap_census.py --only idle       # the idle node only
    python3 bench/heap_census.py --only idle --at-oom 31   # on a 31 KiB heap: the census at
                                                # its first MemoryError, where it ran out

`micropython.mem_info(1)` marks each heap block with a letter for a few types and `h` for the
rest, which on a node is most of the heap. This tool builds a second unix port (tools/firmware.py,
same manifest, code frozen, its own cache folder) from a copy of the MicroPython tree whose
`gc_dump_alloc_table()` also prints every live object (bench/heap_census.c): its bytes, its type,
and for what has no telling type (a dict's table, an instance's attributes, a buffer) the chain
of objects holding it, up to the module, class or instance that owns it. It runs the idle node
and the 5 sensors + 3 switches node of bench/fw_heap.py on a 512 KiB heap, takes the census
DELAY seconds in, after a collection, and sums the bytes by owner and by kind. The debug build is
for this census only: its figures are the frozen firmware's (the patch allocates nothing), but
never ship it.

With --at-oom KIB the node runs on that heap instead, and the firmware (py/runtime.c patched too)
takes the census at its first MemoryError: what filled the heap where it ran out, beside the
frames of the calls then running (`frame:<function>`).

Kinds: `function` and `async_def` (a function object per def, made when the def runs, frozen
code too), `coroutine` (a running one, its frame inline; owned by `coroutine:<its function>`),
`frame` (a running call's frame, on the heap when over 11 words), `raw of X` (untyped, held by an X: a
dict's table, an instance's attribute table, a buffer, a qstr pool's strings), `dict`, `class`, `module`, ...
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fw_heap  # noqa: E402
from node_common import Mosquitto, Watcher, stop_node, write_config  # noqa: E402

BENCH = Path(__file__).resolve().parent
PATCH = BENCH / "heap_census.c"
# the end of gc_dump_alloc_table() in py/gc.c: the census goes before its GC_EXIT()
ANCHOR = '        mp_print_str(print, "\\n");\n    }\n    GC_EXIT();\n}\n'
DONE = "pysmartnode heap census"
INCLUDE = '#include "py/runtime.h"\n'  # the census reads str objects: objstr.h after it
# m_malloc_fail()'s MemoryError in py/runtime.c: with $HEAP_CENSUS_AT_OOM set, the first one
# prints the census first (the heap as it was when nothing more could be allocated; the
# collection the allocator tried is done, the heap's lock free)
OOM_ANCHOR = "    mp_raise_msg_varg(&mp_type_MemoryError,\n"
OOM_PATCH = """    {
        static int census_done = 0;
        if (!census_done && getenv("HEAP_CENSUS_AT_OOM") != NULL) {
            census_done = 1;
            mp_printf(&mp_plat_print, "CENSUS at MemoryError, allocating %u bytes\\n", (unsigned)num_bytes);
            gc_dump_alloc_table(&mp_plat_print);
        }
    }
"""
PROBE = """
import asyncio
import gc
import micropython


async def _census():
    await asyncio.sleep(%d)
    gc.collect()
    print("CENSUS alloc", gc.mem_alloc())
    micropython.mem_info(1)
    micropython.qstr_info(1)
    print("CENSUS done")


asyncio.create_task(_census())
"""


def patch_tree(tree: Path) -> None:
    """Put the census into the tree's py/gc.c, and the census at the first MemoryError (when
    $HEAP_CENSUS_AT_OOM is set) into py/runtime.c, each from the untouched copy kept beside it
    (so an edit of bench/heap_census.c reaches the next build)."""
    gc_c, orig = tree / "py" / "gc.c", tree / "py" / "gc.c.orig"
    if not orig.exists():
        shutil.copy2(gc_c, orig)
    text = orig.read_text()
    if text.count(ANCHOR) != 1 or DONE in text or text.count(INCLUDE) != 1:
        raise SystemExit("heap_census: %s has no single end of gc_dump_alloc_table()" % gc_c)
    head = ANCHOR[: -len("    GC_EXIT();\n}\n")]
    patched = text.replace(ANCHOR, head + PATCH.read_text() + "    GC_EXIT();\n}\n")
    patched = patched.replace(INCLUDE, INCLUDE + '#include "py/objstr.h"\n#include "py/objfun.h"\n')
    _write_if_changed(gc_c, patched)
    rt_c, orig = tree / "py" / "runtime.c", tree / "py" / "runtime.c.orig"
    if not orig.exists():
        shutil.copy2(rt_c, orig)
    text = orig.read_text()
    if text.count(OOM_ANCHOR) != 1 or text.count(INCLUDE) != 1:
        raise SystemExit("heap_census: %s has no single MemoryError of m_malloc_fail()" % rt_c)
    patched = text.replace(OOM_ANCHOR, OOM_PATCH + OOM_ANCHOR)
    patched = patched.replace(INCLUDE, INCLUDE + '#include <stdlib.h>\n#include "py/gc.h"\n')
    _write_if_changed(rt_c, patched)


def _write_if_changed(path: Path, text: str) -> None:
    if path.read_text() != text:  # else make would rebuild it for nothing
        path.write_text(text)


def census_firmware(firmware, source: Path):
    """The debug firmware: a patched copy of the source tree, built into its own cache."""
    root = firmware.cache_root() / "census"
    root.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        tree = root / "src-dir"
        if not (tree / "py" / "gc.c").exists():
            shutil.copytree(source, tree, ignore=shutil.ignore_patterns(".git", "build*"))
    else:
        tree = firmware._unpack(source, root / ("src-" + firmware._file_hash(source)[:16]))
    patch_tree(tree)
    return firmware.build_firmware(tree, bits=64, cache=root)


def parse(output: str) -> list[tuple[int, list[str]]]:
    """[(bytes, chain)] from the census lines: chain[0] the object, chain[-1] its owner."""
    out = []
    for line in output.splitlines():
        if not line.startswith("CEN ") or line.startswith("CEN end"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3 or not parts[1].isdigit():
            continue
        chain = [e.strip() for e in re.split(r"<-(?:\[w\d+/\d+\])?", parts[2]) if e.strip()]
        out.append((int(parts[1]), chain))
    return out


def strings(objects) -> Counter:
    """Bytes per string (its object and its text's block), by its first characters."""
    out = Counter()
    for size, chain in objects:
        for element in chain:
            if element.startswith(("str'", "bytes'")):
                out[element] += size
                break
    return out


def _bare(element: str) -> str:
    """A chain element without a string's text: str'home/a'#12 -> str."""
    return element.split("'", 1)[0]


def summarise(objects) -> tuple[Counter, Counter, dict]:
    """Bytes by kind (the object's own type), by owner, and per owner by kind."""
    kinds, owners, split = Counter(), Counter(), defaultdict(Counter)
    for size, chain in objects:
        kind = _bare(chain[0]).split(":")[0]
        if kind == "raw" and len(chain) > 1:  # say what the untyped block belongs to
            kind = "raw of " + _bare(chain[1]).split(":")[0]
        owner = _bare(chain[-1])
        kinds[kind] += size
        owners[owner] += size
        split[owner][kind] += size
    return kinds, owners, split


def report(label: str, output: str, top: int) -> str:
    objects = parse(output)
    kinds, owners, split = summarise(objects)
    alloc = re.search(r"^CENSUS alloc (\d+)", output, re.M)
    qstrs = re.search(r"n_qstr=(\d+), n_str_data_bytes=(\d+), n_total_bytes=(\d+)", output)
    lines = [
        "### %s: %d B in %d objects (gc.mem_alloc() %s)"
        % (label, sum(s for s, _ in objects), len(objects), alloc.group(1) if alloc else "?"),
        "",
        "| kind | bytes |",
        "|---|---|",
        *("| %s | %d |" % kv for kv in kinds.most_common()),
        "",
        "| owner | bytes | of which |",
        "|---|---|---|",
    ]
    for owner, size in owners.most_common(top):
        parts = ", ".join("%s %d" % kv for kv in split[owner].most_common(4))
        lines.append("| %s | %d | %s |" % (owner, size, parts))
    text = strings(objects)
    if text:
        lines += [
            "",
            "Largest strings (object and text; first 24 characters, `?` unprintable):",
            "",
        ]
        lines += ["- %d B: `%s`" % (size, s) for s, size in text.most_common(min(top, 12))]
    frames = [(size, chain[0]) for size, chain in objects if chain[0].startswith("frame:")]
    if frames:  # calls running as the census was taken, their frames on the heap (heap_frames.py)
        lines += ["", "Frames of running calls on the heap: %d B" % sum(f for f, _ in frames), ""]
        lines += ["- %d B: `%s`" % f for f in sorted(frames, reverse=True)]
    if qstrs:
        lines += ["", "Runtime qstrs: %s, %s B of text, %s B in all." % qstrs.groups()]
    return "\n".join(lines) + "\n"


def at_memory_error(s, port: int, kib: int, node=None, seconds: float = 8) -> str:
    """The node (idle, or with node's components) on a kib KiB heap for `seconds`, its status
    asked for halfway: its output, with the census at its first MemoryError if one came."""
    folder = Path(tempfile.mkdtemp(prefix="census-oom-", dir=s.tmp))
    config, device_id = write_config(folder, port, WATCHDOG_TIMEOUT=30)
    if node is not None:
        (folder / "components.py").write_text(fw_heap.components_py(node, folder))
    shutil.copy(s.main_py("frozen"), folder / "main.py")
    env = {**s.env("frozen"), "HEAP_CENSUS_AT_OOM": "1"}
    out = folder / "output.txt"  # a file, not a pipe: the census (~100 KB) must never block
    watcher = Watcher(port)
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [str(s.fw.micropython), "-X", "heapsize=%dk" % kib, str(folder / "main.py"),
             "--config", str(config)],
            env=env, cwd=folder, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            time.sleep(seconds / 2)
            watcher.client.publish("home/%s/status/set" % device_id, "now", qos=1)
            time.sleep(seconds / 2)
        finally:
            stop_node(proc)
            watcher.close()
    return out.read_text(errors="replace")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, help="MicroPython source (tools/firmware.py)")
    ap.add_argument("--delay", type=int, default=8, help="seconds into the node (default 8)")
    ap.add_argument("--top", type=int, default=30, help="owner rows per node (default 30)")
    ap.add_argument("--raw", type=Path, help="a folder to keep each node's raw census in")
    ap.add_argument("--only", choices=("idle", "5+3"), help="one node only")
    ap.add_argument("--at-oom", type=int, metavar="KIB",
                    help="run on a KIB KiB heap; the census at the first MemoryError")  # fmt: skip
    args = ap.parse_args(argv)
    firmware, source = fw_heap.firmware_and_source(args.source, "heap_census")
    if source is None:
        return 2
    fw = census_firmware(firmware, source)
    with tempfile.TemporaryDirectory(prefix="bench-census-") as tmp, Mosquitto() as broker:
        s = fw_heap.Setup(fw, Path(tmp))
        for label, node in (("idle node", None), ("5 sensors + 3 switches", fw_heap.NODE_5_3)):
            if args.only and args.only != ("idle" if node is None else "5+3"):
                continue
            if args.at_oom:
                output = at_memory_error(s, broker.port, args.at_oom, node)
                at = output.find("CENSUS at MemoryError")
                if at < 0:
                    print("### %s at %d KiB: no MemoryError\n" % (label, args.at_oom))
                    continue
                said = output[at:].splitlines()[0][len("CENSUS at MemoryError, ") :]
                census = output[at : output.find("CEN end", at) + len("CEN end")]
                print(
                    report(
                        "%s at %d KiB, at the first MemoryError (%s)" % (label, args.at_oom, said),
                        census,
                        args.top,
                    )
                )
                continue
            probe = Path(tmp) / "census.py"
            text = PROBE % args.delay
            if node is not None:
                text = fw_heap.components_py(node, Path(tmp)) + text
            probe.write_text(text)
            _, output = fw_heap.node_run(
                s, "frozen", broker.port, 512, args.delay + 3, components=probe
            )
            if "CEN end" not in output:
                print("heap_census: no census from the %s:\n%s" % (label, output[-2000:]))
                return 1
            if args.raw:
                args.raw.mkdir(parents=True, exist_ok=True)
                (args.raw / ("idle.txt" if node is None else "5+3.txt")).write_text(output)
            print(report(label, output, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
