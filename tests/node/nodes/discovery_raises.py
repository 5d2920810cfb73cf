# A test node's components.py: a component whose entities cannot be listed (MemoryError, as a
# board's heap gives when the discovery payload is made), beside a switch whose state must still
# go out after discovery failed
from pysmartnode.utils.component import ComponentBase, ComponentSwitch


class _NoRoom:
    def __iter__(self):
        raise MemoryError("no block for the entities (on purpose)")


class NoRoom(ComponentBase):
    def discovery_entities(self):
        return _NoRoom()  # fails while the payload is built, not when it is asked for


class Lamp(ComponentSwitch):
    async def _on(self):
        return True

    async def _off(self):
        return True


COMPONENTS = {
    "noroom": {"package": "components", "component": "NoRoom"},
    "lamp": {"package": "components", "component": "Lamp", "constructor_args": {"restore": "on"}},
}
