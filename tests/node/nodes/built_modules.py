# A test node's components.py: one sensor and one switch of the library, and the modules probe of
# nodes/modules.py (a command on ./modules/set is answered on ./modules with the loaded modules' names)
import sys

from pysmartnode import node

COMPONENTS = {
    "uptime": {"package": ".unix.uptime", "component": "Uptime"},
    "lamp": {"package": ".unix.file_switch", "component": "FileSwitch"},
}


def on_modules(topic, msg, retained):
    # sys.modules, and the submodules a package still holds as attributes (a module popped from
    # sys.modules whose objects live on is loaded all the same)
    names = set(sys.modules)
    for name, module in list(sys.modules.items()):
        for key, value in list(module.__dict__.items()):
            if type(value) is type(sys) and getattr(value, "__name__", None) == name + "." + key:
                names.add(value.__name__)
    return " ".join(sorted(names))


node.mqtt.subscribe("./modules/set", on_modules)
print("modules: components loaded")
