# A test node's components.py for the unix port: `./ballast/set` fragments the heap, as a node
# that has run for long at the edge of its heap finds it. Every free byte is taken in pieces of
# HOLE bytes and every other piece given back: much of the heap is free, in holes of about HOLE
# bytes, and no larger block is left. Small allocations (a log line, the reset record) still
# succeed; a reconnect, whose CONNECT carries the test's 4 KiB password, cannot, every time
import gc

from pysmartnode import node

HOLE = 512
_held = [None]  # the pieces kept


def fill(topic, msg, retained):
    kept = given = None
    try:
        while True:  # alternately: neighbours in memory, kept and given back
            kept = (kept, bytearray(HOLE))
            given = (given, bytearray(HOLE))
    except MemoryError:
        pass
    _held[0] = kept
    given = None
    gc.collect()
    print("ballast: heap fragmented,", gc.mem_free(), "bytes free")


node.mqtt.subscribe("./ballast/set", fill)
