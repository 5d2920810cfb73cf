"""Takes a MicroPython heap in pieces, for the tests that need it full or fragmented.

Test code that runs on MicroPython (the unix port), so it sticks to the common subset. The
processes the tests start have the repo root on their import path (the node's main.py's folder,
the MICROPYPATH of tests/harness/runtimes.py), so they import it as `tests.heap_fill`, before
the heap is taken: importing compiles, which allocates.
"""

import gc


def fill(sizes, holes=False):
    """Takes pieces of sizes[0] bytes until none is left, then of sizes[1], and so on.

    Args:
        sizes: piece sizes in bytes, largest first (the smaller ones take what is left between).
        holes: give every other piece back at the end: much of the heap is then free, in holes
            of about the piece size, and no larger block is left (as a node that has run long
            at the edge of its heap finds it).

    Returns:
        The chain that holds the pieces kept: the heap is taken while it lives. Without holes
        nothing is collected, so the heap is left full to its last block.
    """
    kept = given = None
    for size in sizes:
        try:
            while True:  # with holes: neighbours in memory, one kept and one given back
                kept = (kept, bytearray(size))
                if holes:
                    given = (given, bytearray(size))
        except MemoryError:
            pass
    if holes:
        given = None
        gc.collect()  # the holes are free now, not only garbage
    return kept
