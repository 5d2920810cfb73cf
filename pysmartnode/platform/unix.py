"""The MicroPython unix port: a Linux node with MicroPython's small heap."""

# This module's table holds 7 names (8 slots; a 9th grows it to 10, 16 bytes a slot). What the
# rest of pysmartnode binds by name at its import, MicroPython's own functions and the host's
# Link, and what start-up and the watchdog ask for once (unix_rare.py, _host.py) are answered
# by __getattr__. The modules this needs (_thread, os, time) are imported where they are used;
# the watchdog's two ways of checking live in modules of their own (unix_thread.py,
# unix_watch.py), loaded only for the one a node uses; the host's network and name are _host.py's

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
    # MicroPython's own functions and the Link are looked up where they live. What start-up and
    # the watchdog ask for once (device_id, reset_cause, watch, every: unix_rare.py; led,
    # ntp_sync: _host.py's) is looked up there for each use, the module dropped at once, so the
    # idle node holds none of it; the two constants are answered here.
    # Only what is called, not imported by name by a module that stays (as every and irq_flag
    # are): that would hold the function, and with it all of unix_rare, for good
    if name in ("ticks_ms", "ticks_diff", "ticks_add"):
        import time

        return getattr(time, name)
    if name in ("collect", "mem_free", "mem_alloc"):
        import gc

        return getattr(gc, name)
    if name == "sleep_ms":  # (sleep() makes a float: an allocation)
        import asyncio

        return asyncio.sleep_ms
    if name == "const":  # re-exported for the rest of pysmartnode
        from micropython import const

        return const
    if name == "Link":
        from pysmartnode.platform._host import Link

        return Link
    if name == "PLATFORM":
        return "unix"
    if name == "KEEPS_TIME":
        return True  # the OS keeps the clock: no NTP task
    if name == "led" or name == "ntp_sync":
        from pysmartnode.platform import _host

        return getattr(_host, name)
    if (" %s " % name) not in " device_id reset_cause watch every ":
        raise AttributeError(name)
    from pysmartnode.utils import use_once

    return getattr(use_once("pysmartnode.platform.unix_rare"), name)
