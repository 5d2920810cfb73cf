# A test node's components.py: a task it starts notes, while the registry builds the components
# (it yields between them), which modules of the start-up alone are still in sys.modules
import asyncio
import sys

from pysmartnode import node

START_ONLY = (
    "components",  # this file: its COMPONENTS are taken, no entry is of its package
    "pysmartnode.startup",
    "pysmartnode.logging.control",
    "pysmartnode.utils.watchdog",
    "pysmartnode.components.machine",
    "pysmartnode.utils.component.discovery",
    "pysmartnode.utils.registry",
)


async def _watch():
    held = []
    turns = 0
    while len(node.components) < 2:
        turns += 1
        for name in START_ONLY:
            if name in sys.modules and name not in held:
                held.append(name)
        await asyncio.sleep(0)
    print("build_modules: %d turns, held %s" % (turns, " ".join(held) or "none"))


asyncio.create_task(_watch())

COMPONENTS = {
    "uptime": {"package": ".unix.uptime", "component": "Uptime"},
    "load": {"package": ".unix.load", "component": "CPULoad"},
}
