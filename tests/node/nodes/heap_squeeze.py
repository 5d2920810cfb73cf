# A test node's components.py for the unix port: a sensor and a switch of the library, then for
# 1.5 s nothing can be allocated (the heap locked), as a node at the edge of its heap meets now
# and then. Whatever allocates meanwhile fails; the node must take it as a passing fault: no
# task may die of it, and nothing may end or reset the node
import asyncio

import micropython

COMPONENTS = {
    "uptime": {
        "package": ".unix.uptime",
        "component": "Uptime",
        "constructor_args": {"interval_reading": 0.5, "interval_publish": 0.5},
    },
    "lamp": {
        "package": ".unix.file_switch",
        "component": "FileSwitch",
        "constructor_args": {"path": "lamp.txt"},  # in the node's own folder
    },
}


async def squeeze():
    await asyncio.sleep(2)
    print("heap_squeeze: no heap for 1.5 s")
    micropython.heap_lock()
    try:
        await asyncio.sleep_ms(1500)  # sleep(1.5) would make a float: an allocation
    finally:
        micropython.heap_unlock()
    print("heap_squeeze: the heap is back")


asyncio.create_task(squeeze())
