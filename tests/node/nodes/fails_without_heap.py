# A test node's components.py for the unix port: a task fails while nothing can be allocated
# (the heap locked for 1.5 s), so the event loop's exception handler has no heap to report it
import asyncio

import micropython


async def unlock_later():
    await asyncio.sleep_ms(2500)  # from the start: 1.5 s after the lock below
    micropython.heap_unlock()
    print("fails_without_heap: the heap is back")


async def fail():
    await asyncio.sleep_ms(1000)
    print("fails_without_heap: failing with no heap")
    micropython.heap_lock()
    raise ValueError("no heap")  # with the heap locked this is a MemoryError


asyncio.create_task(unlock_later())
asyncio.create_task(fail())
