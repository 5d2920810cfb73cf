# A components.py for bench/fw_heap.py: after DELAY seconds of an idle node, a collection, then
# gc.mem_alloc() and micropython.mem_info(1) (the heap map: one character per block, by type).
import asyncio
import gc

import micropython

DELAY = 20


async def _probe():
    await asyncio.sleep(DELAY)
    gc.collect()
    print("HEAP alloc", gc.mem_alloc(), "free", gc.mem_free())
    micropython.mem_info(1)
    print("HEAP end")


asyncio.create_task(_probe())
