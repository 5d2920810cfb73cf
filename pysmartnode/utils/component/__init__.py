"""The base classes components are written against, and the sensor-type names.

    from pysmartnode.utils.component import SENSOR_TEMPERATURE, ComponentSensor

Lazy, as micropython's asyncio is: a class's module loads on first use, so a node with no switch
never loads the switch code. SENSOR_* and BINARY_* names come from definitions.py. See
docs/components.md.
"""


def __getattr__(attr):
    if attr[:9] == "Component" and len(attr) > 9:
        # ComponentBinarySensor -> binary_sensor: the class's module, by name (no table of them)
        module = attr[9].lower()
        for c in attr[10:]:
            module += "_" + c.lower() if c.isupper() else c
    elif attr[:7] == "SENSOR_" or attr[:7] == "BINARY_" or attr[:6] == "STATE_":
        module = "definitions"
    else:
        module = attr  # a submodule: `from pysmartnode.utils.component import discovery`
        try:
            value = __import__(module, globals(), None, [], 1)
        except ImportError:
            raise AttributeError(attr) from None
        globals()[attr] = value
        return value
    try:
        value = getattr(__import__(module, globals(), None, [], 1), attr)
    except ImportError:
        raise AttributeError(attr) from None
    globals()[attr] = value
    return value
