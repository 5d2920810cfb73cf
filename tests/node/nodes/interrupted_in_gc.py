# A test node's components.py for the unix port: what a Ctrl-C that lands inside the garbage
# collector leaves behind (the unix port raises it at once, wherever the interpreter is): a
# KeyboardInterrupt with the heap still locked
import asyncio

import micropython


async def interrupt():
    await asyncio.sleep(0.3)
    print("interrupted_in_gc: locking the heap")
    micropython.heap_lock()
    raise KeyboardInterrupt


asyncio.create_task(interrupt())
