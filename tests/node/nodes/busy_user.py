# A test node's components.py: user tasks that publish through node.mqtt all the time, as a
# component's loop does; the stop must end them before the MQTT handle goes
import asyncio

from pysmartnode import node


async def chatter(name):
    count = 0
    while True:
        count += 1
        await node.mqtt.publish("./busy/" + name, str(count))
        await asyncio.sleep(0.01)


for _name in ("a", "b", "c"):
    asyncio.create_task(chatter(_name))
print("busy user tasks started")
