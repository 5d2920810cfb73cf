"""bench/heap_frames.py: which functions' frames MicroPython puts on the heap while they run
(state over 11 words), and the node's hot functions kept off it."""

from __future__ import annotations

import importlib.util
import sys

from harness import REPO

sys.path.insert(0, str(REPO / "bench"))
spec = importlib.util.spec_from_file_location("heap_frames_t", REPO / "bench" / "heap_frames.py")
frames_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(frames_tool)

SAMPLE = """
def small(a, b):
    return a + b


def large(a, b, c, d, e, f, g, h, i, j, k, l):
    return a + b + c + d + e + f + g + h + i + j + k + l


def guarded(a, b, c):
    try:
        return a(b, c)
    except Exception:
        return None


def made(a, b, c, d, e, f, g, h, i, j, k, l):
    yield a


class Box:
    def method(self, x):
        return x
"""


def _tree():
    firmware = frames_tool.fw_heap.load_tool("firmware")
    source = firmware.find_source()
    if source.is_dir():
        return source
    return firmware._unpack(
        source, firmware.cache_root() / ("src-" + firmware._file_hash(source)[:16])
    )


def test_the_tool_says_which_frames_go_on_the_heap_and_how_large(firmware, tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(SAMPLE)
    rows = frames_tool.frames(firmware.mpy_cross, _tree(), [sample])
    by_name = {r["name"]: r for r in rows}
    assert by_name["small"]["heap"] == 0 and by_name["small"]["n_state"] <= 11
    assert by_name["Box.method"]["heap"] == 0
    # 12 arguments: 12 words and more of state, over 88 B: a block of the heap with its header
    big = by_name["large"]
    assert big["n_state"] >= 12 and big["state"] == 8 * big["n_state"]
    assert big["heap"] == -(-(40 + big["state"]) // 32) * 32
    # a try costs 3 words: three arguments and a guarded call no longer fit 11 words
    assert by_name["guarded"]["n_exc_stack"] == 1 and by_name["guarded"]["heap"] == 160
    # a generator keeps its frame in its own object: never a heap frame of a call
    assert by_name["made"]["generator"] and by_name["made"]["heap"] == 0
    # on a board (4-byte words) the limit is 44 B
    words32 = frames_tool.frames(
        firmware.mpy_cross, _tree(), [REPO / "pysmartnode" / "main.py"], 32
    )
    assert {r["name"] for r in words32} >= {"run", "_serve", "_main"}


def test_the_node_s_hot_functions_keep_their_frames_off_the_heap(firmware):
    # main.run and _serve for the node's life, the watchdog thread's loop, and every call of a
    # log line: a frame over 11 words takes a block of the heap while it runs
    assert frames_tool.main(["--check"]) == 0
