"""The heap bisection tools/client_heap.py and bench/fw_heap.py share: the smallest size that
works, confirmed, moving up past a size that worked once by luck of fragmentation."""

from __future__ import annotations

from tool_modules import load_tool


def test_bisection_finds_the_edge_and_moves_up_past_a_lucky_size():
    bisect = load_tool("client_heap").bisect
    assert bisect(lambda k: k >= 37) == 37
    lucky = [True]  # 37 works once (the bisection's probe), then never again

    def ok(kib):
        if kib == 37 and lucky:
            return lucky.pop()
        return kib >= 38

    assert bisect(ok) == 38
    assert bisect(lambda k: False) is None  # not even the largest size works


def test_fw_heap_counts_a_node_whose_discovery_failed_for_want_of_heap_as_not_running():
    import importlib.util

    from harness import REPO

    spec = importlib.util.spec_from_file_location("fw_heap_t", REPO / "bench" / "fw_heap.py")
    fw_heap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fw_heap)
    healthy = "23:40:01 [info] node: connected to 127.0.0.1:1883\n23:40:02 [info] status: sent\n"
    assert fw_heap.unwell(healthy) is None
    failed = (
        "23:40:02 [error] discovery: discovery not published: MemoryError: memory allocation failed"
    )
    assert fw_heap.unwell(healthy + failed + "\n") == failed
    assert fw_heap.unwell("Task exception wasn't retrieved\nMemoryError:\n") == "MemoryError:"
