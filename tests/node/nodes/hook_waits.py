# A test node's components.py: the system component (its connect hook awaits discovery before
# it publishes), then a connect hook that never returns; the test sends its signal while it waits
import asyncio

from pysmartnode import node


async def _waits(reason):
    print("hook_waits: in the connect hooks")
    await asyncio.Event().wait()


def add_hook():
    node.mqtt.on_connect(_waits)


COMPONENTS = {
    "system": {"package": ".machine.system", "component": "System"},
    "hook": {"package": "components", "component": "add_hook"},
    "_order": ["system", "hook"],
}
