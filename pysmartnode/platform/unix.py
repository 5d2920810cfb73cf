"""The MicroPython unix port: a Linux node with MicroPython's small heap."""

# The modules this needs (_thread, os, time) are imported where they are used: every name here
# is a slot of this module's table for good, and 17 names fit a table of 17 slots where the 18th
# grows it to 23 (16 bytes each). What is used now and then is unix_rare.py's (see __getattr__);
# the watchdog's two ways of checking live in modules of their own (unix_thread.py,
# unix_watch.py), loaded only for the one a node uses; the host's network and name are _host.py's
from asyncio import sleep_ms  # noqa: F401  (sleep() makes a float: an allocation)
from gc import collect, mem_alloc, mem_free  # noqa: F401
from time import ticks_add, ticks_diff, ticks_ms  # noqa: F401

from micropython import const  # noqa: F401  re-exported for the rest of pysmartnode

from pysmartnode.platform._host import Link  # noqa: F401

_MAIN_THREAD = __import__("_thread").get_ident()


def restart(code=1):
    import _thread
    import os
    import time

    if _thread.get_ident() == _MAIN_THREAD:
        raise SystemExit(code)
    # From the watchdog's thread: the unix port has no os._exit, and sys.exit() would end only
    # that thread. The shell's parent is this process, so the kill ends it wherever it is stuck
    os.system("kill -9 $PPID")
    time.sleep(1)
    raise SystemExit(code)  # not reached unless the kill failed


def every(seconds, func):
    # A function of this module, the work unix_rare.py's: the watchdog's module imports every by
    # name and holds it for good (which would keep all of unix_rare)
    return __getattr__("every")(seconds, func)


def irq_flag():
    import asyncio

    flag = getattr(asyncio, "ThreadSafeFlag", None)  # a build without it: the caller polls
    return flag() if flag is not None else None


def __getattr__(name):
    # What start-up and the watchdog ask for once (device_id, reset_cause, watch, every:
    # unix_rare.py; led, ntp_sync: _host.py's) is looked up there for each use, the module
    # dropped at once, so the idle node holds none of it; the two constants are answered here.
    # Only what is called, not imported by name by a module that stays (as every and irq_flag
    # are): that would hold the function, and with it all of unix_rare, for good
    if name == "PLATFORM":
        return "unix"
    if name == "KEEPS_TIME":
        return True  # the OS keeps the clock: no NTP task
    if name == "led" or name == "ntp_sync":
        from pysmartnode.platform import _host

        return getattr(_host, name)
    if (" %s " % name) not in " device_id reset_cause watch every ":
        raise AttributeError(name)
    import sys

    full = "pysmartnode.platform.unix_rare"
    __import__(full)
    module = sys.modules.pop(full)
    package = sys.modules.get("pysmartnode.platform")
    if package is not None and "unix_rare" in package.__dict__:
        delattr(package, "unix_rare")
    return getattr(module, name)
