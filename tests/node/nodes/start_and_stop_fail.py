# A test node's components.py: the start fails after the build (the connect raises) and the
# stop that follows fails too (the status's stop raises). The node must say why it stopped:
# the start's failure, not the stop's
from pysmartnode import node


async def _connect():
    raise RuntimeError("the connect failed (on purpose)")


def _stop():
    raise RuntimeError("the status's stop failed (on purpose)")


node.mqtt.connect = _connect
node.status.stop = _stop
COMPONENTS = {}
