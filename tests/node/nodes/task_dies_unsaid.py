# A test node's components.py: a task of its own dies, and saying why needs heap there is none
# of (its exception's text raises MemoryError, as formatting it at a full heap's edge does)
import asyncio


class Unsaid(Exception):
    def __str__(self):
        raise MemoryError("no heap to format the reason (on purpose)")


async def die():
    await asyncio.sleep(0.5)
    print("task_dies_unsaid: the task dies now")
    raise Unsaid()


asyncio.create_task(die())
