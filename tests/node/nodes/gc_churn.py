# A test node's components.py: a task that collects garbage all the time, as a node short of
# RAM does, so that a Ctrl-C very likely comes while the main thread collects (and waits for
# the watchdog's thread to scan its stack)
import asyncio
import gc


async def churn():
    print("gc_churn: collecting")
    while True:
        gc.collect()
        await asyncio.sleep(0)


asyncio.create_task(churn())
