# A test node's components.py for the unix port: the heap filled to its last block, then the
# event loop blocked. The watchdog's check (a thread on the firmware) must still end the node,
# with no heap to import, format or record anything
import asyncio
import time

from tests.heap_fill import fill


async def block():
    await asyncio.sleep(0.5)
    print("full_heap: the heap fills and the event loop stops now")
    keep = fill((4096, 1024, 256, 64, 16, 1))
    time.sleep(60)  # a blocking call where an await belonged, on a full heap
    print("full_heap: still alive", keep is None)


asyncio.create_task(block())
