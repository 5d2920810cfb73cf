# A test node's components.py for the unix port: a Ctrl-C that lands inside the garbage collector
# leaves the heap locked, and the first thing to notice may be an allocation, not the
# KeyboardInterrupt (seen in CI: the node's stop failed with "MemoryError: ... heap is locked"
# and the process left with 1). Here a task allocates with the heap locked
import asyncio

import micropython


async def interrupt():
    await asyncio.sleep(0.3)
    print("memory_error_in_gc: locking the heap")
    micropython.heap_lock()
    bytearray(64)


asyncio.create_task(interrupt())
