# A test node's components.py: one filter no broker takes ('#' not last), subscribed before a
# good one; the good one must still work (a command echoed as its state) and the bad one be
# logged as an error
from pysmartnode import node


def on_any(topic, msg, retained):
    pass


def on_ping(topic, msg, retained):
    return msg  # published, retained, on ./ping


node.mqtt.subscribe("./bad/#/x", on_any)
node.mqtt.subscribe("./ping/set", on_ping)
