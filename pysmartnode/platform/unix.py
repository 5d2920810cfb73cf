"""The MicroPython unix port: a Linux node with MicroPython's small heap."""

import _thread
import gc
import os
import time

from micropython import const  # noqa: F401  re-exported for the rest of pysmartnode

from pysmartnode.platform._host import Link, host_name, led, ntp_sync  # noqa: F401

KEEPS_TIME = True  # the OS keeps the clock: no NTP task
PLATFORM = "unix"
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
ticks_add = time.ticks_add
mem_free = gc.mem_free
mem_alloc = gc.mem_alloc
collect = gc.collect


def device_id():
    return host_name()


def reset_cause():
    return None


_MAIN_THREAD = _thread.get_ident()


def restart(code=1):
    if _thread.get_ident() == _MAIN_THREAD:
        raise SystemExit(code)
    # From the watchdog's thread: the unix port has no os._exit, and sys.exit() would end only
    # that thread. The shell's parent is this process, so the kill ends it wherever it is stuck
    os.system("kill -9 $PPID")
    time.sleep(1)
    raise SystemExit(code)  # not reached unless the kill failed


class _Every:
    interrupted = False

    def __init__(self, seconds, func):
        self._running = True
        _thread.start_new_thread(self._run, (seconds, func))

    def _run(self, seconds, func):
        while self._running:
            try:
                time.sleep(seconds)
                if self._running:
                    func()
            except KeyboardInterrupt:
                # Linux may hand SIGINT (Ctrl-C) to this thread rather than the main one, and
                # MicroPython then raises it here, where it would end only this thread and leave
                # the node running. Note it; the event loop side raises it again (watchdog.py)
                self.interrupted = True

    def stop(self):
        self._running = False


def every(seconds, func):
    return _Every(seconds, func)
