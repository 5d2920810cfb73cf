# A test node's components.py that adds nothing to the idle node's running parts, only a way to
# ask which modules it holds: a command on ./modules/set is answered on ./modules with the names
# of the modules loaded (through the handle's /set echo: no task, no import of its own)
import sys

from pysmartnode import node


def on_modules(topic, msg, retained):
    # sys.modules, and the submodules a package still holds as attributes (a module popped from
    # sys.modules whose objects live on is loaded all the same)
    names = set(sys.modules)
    for name, module in list(sys.modules.items()):
        for key, value in list(module.__dict__.items()):
            if type(value) is type(sys) and getattr(value, "__name__", None) == name + "." + key:
                names.add(value.__name__)
    # and the modules of what start-up built (node.parts, the watchdog's check): loaded,
    # though out of sys.modules and off their package (their objects hold them)
    for part in list(node.parts.values()):
        for obj in (part, getattr(part, "_check_timer", None)):
            module = getattr(type(obj), "__module__", None)
            if module and module[:12] == "pysmartnode.":
                names.add(module)
    return " ".join(sorted(names))


node.mqtt.subscribe("./modules/set", on_modules)
print("modules: components loaded")
