# A test node's components.py: a component that starts short tasks at the build and a long one.
# Once connected it reports how many of them the node still holds for its stop
import asyncio

from pysmartnode import node


async def short(i):
    await asyncio.sleep(0.1 * i)


async def long():
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        # The stop ends the components' tasks first, while node.mqtt is still there
        print("short_tasks: the long task was cancelled, mqtt", "there" if node.mqtt else "gone")
        raise


async def report():
    for _ in range(60):
        print("short_tasks: held", len(node.parts.get("tasks", ())))
        await asyncio.sleep(0.5)


def on_connect(reason):
    if reason == "connect":
        asyncio.create_task(report())  # after the build: not one of the noted tasks


for i in range(5):
    asyncio.create_task(short(i))
asyncio.create_task(long())
node.mqtt.on_connect(on_connect)
print("short_tasks: built")
