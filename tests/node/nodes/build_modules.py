# A test node's components.py: a task it starts notes, while the registry builds the components
# (it yields between them), which modules of the start-up alone are still in sys.modules
import asyncio
import sys

from pysmartnode import node

START_ONLY = (
    "components",  # this file: its COMPONENTS are taken, no entry is of its package
    "pysmartnode.startup",
    "pysmartnode.startup_components",
    "pysmartnode.logging.control",
    "pysmartnode.utils.watchdog",
    "pysmartnode.components.machine",
    "pysmartnode.utils.component.discovery",
    "pysmartnode.utils.registry",
)


async def _watch():
    held = []
    turns = 0
    early = None  # the first built entry's dict, looked at while the other is being built
    while len(node.components) < 2:
        turns += 1
        if len(node.components) == 1 and early is None:
            early = COMPONENTS[list(node.components)[0]]
        for name in START_ONLY:
            if name in sys.modules and name not in held:
                held.append(name)
        await asyncio.sleep(0)
    print("build_modules: %d turns, held %s" % (turns, " ".join(held) or "none"))
    # components.py's entries are let go as they are built (the registry's keep=False)
    print(
        "build_modules: entries %r, the first while building %r"
        % (list(COMPONENTS.values()), early)
    )


asyncio.create_task(_watch())

COMPONENTS = {
    "uptime": {"package": ".unix.uptime", "component": "Uptime"},
    "load": {"package": ".unix.load", "component": "CPULoad"},
}
