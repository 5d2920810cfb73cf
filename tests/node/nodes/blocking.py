# A test node's components.py: a component that blocks the event loop, for the watchdog test
import asyncio
import time


async def block():
    await asyncio.sleep(0.5)
    print("blocking: the event loop stops now")
    time.sleep(60)  # a blocking call where an await belonged
    print("blocking: still alive")


asyncio.create_task(block())
