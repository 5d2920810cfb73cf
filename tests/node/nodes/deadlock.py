# A test node's components.py: the event loop waits on a lock it holds itself, as the PyPI
# wheel's MicroPython does after a Ctrl-C inside its allocator (the heap's lock stays held)
import _thread
import asyncio


async def deadlock():
    await asyncio.sleep(0.5)
    lock = _thread.allocate_lock()
    lock.acquire()
    print("deadlock: the event loop waits on its own lock now")
    lock.acquire()
    print("deadlock: still alive")


asyncio.create_task(deadlock())
