"""The base classes components are written against, and the sensor-type names.

    from pysmartnode.utils.component import SENSOR_TEMPERATURE, ComponentSensor

Lazy, as micropython's asyncio is: a class's module loads on first use, so a node with no switch
never loads the switch code. SENSOR_* and BINARY_* names come from definitions.py. See
docs/components.md.
"""

_attrs = {
    "ComponentBase": "base",
    "ComponentSensor": "sensor",
    "ComponentSwitch": "switch",
    "ComponentLight": "light",
    "ComponentButton": "button",
    "ComponentBinarySensor": "binary_sensor",
}


def __getattr__(attr):
    module = _attrs.get(attr)
    if module is None:
        if attr[:7] == "SENSOR_" or attr[:7] == "BINARY_" or attr[:6] == "STATE_":
            module = "definitions"
        else:
            module = attr  # a submodule: `from pysmartnode.utils.component import discovery`
            try:
                value = __import__(module, globals(), None, [], 1)
            except ImportError:
                raise AttributeError(attr) from None
            globals()[attr] = value
            return value
    value = getattr(__import__(module, globals(), None, [], 1), attr)
    globals()[attr] = value
    return value
