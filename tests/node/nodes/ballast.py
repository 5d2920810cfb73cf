# A test node's components.py for the unix port: `./ballast/set` fragments the heap, as a node
# that has run for long at the edge of its heap finds it. Every free byte is taken in pieces of
# HOLE bytes and every other piece given back: much of the heap is free, in holes of about HOLE
# bytes, and no larger block is left. Small allocations (a log line, the reset record) still
# succeed; a reconnect, whose CONNECT carries the test's 4 KiB password, cannot, every time
import gc

from pysmartnode import node
from tests.heap_fill import fill as fill_heap

HOLE = 512
_held = [None]  # the pieces kept


def fill(topic, msg, retained):
    _held[0] = fill_heap((HOLE,), holes=True)
    print("ballast: heap fragmented,", gc.mem_free(), "bytes free")


node.mqtt.subscribe("./ballast/set", fill)
