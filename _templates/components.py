# components.py: which components this node runs. Copy it beside your config.py with the
# templates it names; the node builds them in this order (see docs/components.md).
#
# "package" is a module: one beside this file ("sensor_template"), or one from the library
# (".unix.load" is pysmartnode/components/unix/load.py). "component" is the class in it;
# "constructor_args" its keyword arguments. The key ("room_climate") is the component's name:
# its topics (<home>/<device>/room_climate) and Home Assistant ids derive from it, so keep it
# when you rename a class.

COMPONENTS = {
    "_order": ["room_climate", "garden_pump", "greeter", "front_door", "ticker"],
    "room_climate": {
        "package": "sensor_template",
        "component": "MySensor",
        "constructor_args": {"interval_reading": 10, "interval_publish": 30},
    },
    "garden_pump": {
        "package": "switch_template",
        "component": "MySwitch",
        "constructor_args": {"restore": "off", "max_on_time": 600},
    },
    "greeter": {"package": "button_template", "component": "MyButton"},
    "front_door": {
        "package": "binary_sensor_template",
        "component": "MyBinarySensor",
        "constructor_args": {"device_class": "door"},
    },
    "ticker": {"package": "component_template", "component": "MyComponent"},
}
