# A test node's components.py that adds nothing to the idle node's running parts, only a way to
# ask which modules it holds: a command on ./modules/set is answered on ./modules with the names
# in sys.modules (through the handle's /set echo: no task, no import of its own)
import sys

from pysmartnode import node


def on_modules(topic, msg, retained):
    return " ".join(sorted(sys.modules))


node.mqtt.subscribe("./modules/set", on_modules)
print("modules: components loaded")
