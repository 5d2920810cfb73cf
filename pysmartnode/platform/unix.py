"""The MicroPython unix port: a Linux node with MicroPython's small heap."""

# The modules this needs (_thread, os, time) are imported where they are used: every name here
# is a slot of this module's table for good, and 23 names fit a table of 23 slots where the 24th
# grows it to 29 (16 bytes each). The watchdog's two ways of checking live in modules of their
# own (unix_thread.py, unix_watch.py), loaded only for the one a node uses; the host's network
# and name are _host.py's
from asyncio import sleep_ms  # noqa: F401  (sleep() makes a float: an allocation)
from gc import collect, mem_alloc, mem_free  # noqa: F401
from time import ticks_add, ticks_diff, ticks_ms  # noqa: F401

from micropython import const  # noqa: F401  re-exported for the rest of pysmartnode

from pysmartnode.platform._host import Link, led, ntp_sync  # noqa: F401

KEEPS_TIME = True  # the OS keeps the clock: no NTP task
PLATFORM = "unix"


def device_id():
    from pysmartnode.platform._host import host_name

    return host_name()


def reset_cause():
    return None


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


def _sigmask():
    """libc's pthread_sigmask through `ffi`, or None: no `ffi` (the PyPI wheel), or SIG_BLOCK is
    not 0 there (MIPS, SPARC, Alpha refuse 0 with EINVAL; blocking nothing changes nothing)."""
    try:
        import ffi

        mask = ffi.open(None).func("i", "pthread_sigmask", "iPP")
    except (ImportError, OSError, AttributeError):
        return None
    return mask if mask(0, bytearray(128), None) == 0 else None


def watch(timeout, period, reason, reason_file):
    """The watchdog's check outside the interpreter (unix_watch.Watcher) where a thread of its own could
    deadlock a Ctrl-C: Linux without `ffi` (the PyPI wheel). None where a thread is safe: a
    build with `ffi` (its thread blocks SIGINT), or no /proc (macOS): every() then."""
    import os

    if _sigmask() is not None:
        return None
    try:
        os.stat("/proc/self/cwd")
        import sys

        from pysmartnode.platform.unix_watch import Watcher

        sys.modules.pop("pysmartnode.platform.unix_watch", None)  # as every() does
        return Watcher(timeout, period, reason, reason_file)
    except OSError:  # no /proc, or no folder to feed the check through
        return None


def every(seconds, func):
    import sys

    from pysmartnode.platform.unix_thread import Every

    # Out of sys.modules at once (the object holds its class): one module less in its table
    # while the components load (it grows a step at 48)
    sys.modules.pop("pysmartnode.platform.unix_thread", None)
    return Every(seconds, func, _sigmask())


def irq_flag():
    import asyncio

    flag = getattr(asyncio, "ThreadSafeFlag", None)  # a build without it: the caller polls
    return flag() if flag is not None else None
