# A test node's components.py: a component that blocks the event loop for 4 s (4 of the
# watchdog's periods) without waiting on a lock, then lets it run again
import asyncio
import time


async def block():
    await asyncio.sleep(0.5)
    print("blocks_a_while: the event loop stops for 4 s now")
    time.sleep(4)  # a blocking call where an await belonged
    print("blocks_a_while: the event loop runs again")


asyncio.create_task(block())
