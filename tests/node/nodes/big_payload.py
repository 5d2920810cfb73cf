# A test node's components.py: a text subscription that reports the length of what it got, for
# payloads sized against what the node can still allocate. On CPython (Linux) the process's
# address space is capped a little above what it uses now (RLIMIT_AS): a big payload then
# raises MemoryError like a board's heap does
import asyncio
import sys

from pysmartnode import node

if sys.implementation.name == "cpython":
    import resource

    with open("/proc/self/status") as f:
        used = [int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:")][0]
    resource.setrlimit(resource.RLIMIT_AS, (used + 48 * 1024 * 1024, resource.RLIM_INFINITY))


def on_big(topic, msg, retained):
    asyncio.create_task(node.mqtt.publish("./big_got", str(len(msg)), qos=1))


node.mqtt.subscribe("./big", on_big)
