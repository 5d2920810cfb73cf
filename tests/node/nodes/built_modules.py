# A test node's components.py: one sensor and one switch of the library, and the modules probe of
# nodes/modules.py (a command on ./modules/set is answered on ./modules with sys.modules' names)
import sys

from pysmartnode import node

COMPONENTS = {
    "uptime": {"package": ".unix.uptime", "component": "Uptime"},
    "lamp": {"package": ".unix.file_switch", "component": "FileSwitch"},
}


def on_modules(topic, msg, retained):
    return " ".join(sorted(sys.modules))


node.mqtt.subscribe("./modules/set", on_modules)
print("modules: components loaded")
