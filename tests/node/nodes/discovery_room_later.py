# A test node's components.py: a switch whose entities cannot be listed the first two times
# discovery asks (MemoryError, as a board's full heap gives), then can. Home Assistant must never
# get a device config without it: the publication fails and is tried again
from pysmartnode.utils.component import ComponentSwitch

_asked = [0]


class Lamp(ComponentSwitch):
    async def _on(self):
        return True

    async def _off(self):
        return True

    def discovery_entities(self):
        _asked[0] += 1
        if _asked[0] <= 2:
            raise MemoryError("no block for the entities (on purpose)")
        return ComponentSwitch.discovery_entities(self)


COMPONENTS = {
    "lamp": {"package": "components", "component": "Lamp"},
    "bell": {"package": "components", "component": "Lamp"},
}
