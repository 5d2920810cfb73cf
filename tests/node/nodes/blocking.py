# A test node's components.py: a component that blocks the event loop, for the watchdog tests.
# With the watchdog on it blocks for 60 s (the watchdog must end the node long before); with
# WATCHDOG_TIMEOUT = 0 for 4 s, then lets the loop run again (nothing may end the node)
import asyncio
import time

from pysmartnode import config


async def block():
    await asyncio.sleep(0.5)
    seconds = 60 if config.WATCHDOG_TIMEOUT else 4
    print("blocking: the event loop stops now, for %d s" % seconds)
    time.sleep(seconds)  # a blocking call where an await belonged
    print("blocking: the event loop runs again")


asyncio.create_task(block())
