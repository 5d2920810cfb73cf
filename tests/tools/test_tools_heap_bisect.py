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
