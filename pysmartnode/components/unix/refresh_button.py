"""A button that makes every sensor of the node read and publish now (Home Assistant shows
fresh values without waiting for the publish interval).

Example config (hjson):
    refresh: {
        package: .unix.refresh_button
        component: RefreshButton
    }
"""

from pysmartnode import node
from pysmartnode.utils.component import ComponentButton, ComponentSensor


class RefreshButton(ComponentButton):
    def __init__(self, name, **kwargs):
        ComponentButton.__init__(self, name, **kwargs)

    async def _press(self):
        for component in list(node.components.values()):
            if isinstance(component, ComponentSensor) and component.sensor_types:
                # max_age=0: a new reading, published (all its types go in one payload)
                await component.getValue(component.sensor_types[0], publish=True, max_age=0)
