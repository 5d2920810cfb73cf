# A test node's components.py for CPython: a command on ./held/set is answered on ./held with the
# modules of every function and coroutine alive in the process (CPython's gc sees them all).
# A function keeps its module's globals, so a start-up function still held (the loop's handler,
# the log sink, a local of a frame that lives on) keeps the whole start-up module, on a board too
import gc
import types

from pysmartnode import node


def on_held(topic, msg, retained):
    gc.collect()
    names = set()
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType):  # closures too
            names.add(str(obj.__globals__.get("__name__")))
        elif isinstance(obj, types.CoroutineType) and obj.cr_frame is not None:  # not ended
            names.add(str(obj.cr_frame.f_globals.get("__name__")))
    return " ".join(sorted(names))


node.mqtt.subscribe("./held/set", on_held)
print("held: components loaded")
