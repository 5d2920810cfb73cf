# components.py of an HTTP test node; the test writes http_args.py beside it
from http_args import ARGS

COMPONENTS = {
    "http": {"package": ".net.http", "component": "HTTP", "constructor_args": ARGS},
    "lamp": {"package": "httpparts", "component": "Lamp", "constructor_args": {"restore": "off"}},
    "bell": {"package": "httpparts", "component": "Bell"},
    "chatter": {"package": "httpparts", "component": "Chatter"},
    "thermostat": {"package": "httpparts", "component": "Thermostat"},
    "system": {"package": ".machine.system", "component": "System"},
    "meter": {
        "package": "httpparts",
        "component": "Meter",
        "constructor_args": {"interval_reading": 1, "interval_publish": 1},
    },
}
