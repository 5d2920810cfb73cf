"""CPython on Linux: a node on a Raspberry Pi or a server, and the embedded demo."""

import asyncio
import gc
import os
import sys
import threading
import time

from pysmartnode.platform import _host
from pysmartnode.platform._host import host_name, led, ntp_sync  # noqa: F401

KEEPS_TIME = True  # the OS keeps the clock: no NTP task
PLATFORM = "cpython"


def const(x):
    return x


def ticks_ms():
    return time.monotonic_ns() // 1000000  # never wraps, so ticks_diff is a subtraction


def ticks_diff(a, b):
    return a - b


def ticks_add(t, ms):
    return t + ms


def sleep_ms(ms):
    return asyncio.sleep(ms / 1000)


def device_id():
    return host_name()


def mem_free():
    return None  # the OS owns the memory; there is no fixed heap to report


def mem_alloc():
    return None


def collect():
    gc.collect()


def reset_cause():
    return None


def restart(code=1):
    # os._exit ends the process from any thread, without running finalisers that could block
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class Link(_host.Link):
    def ip(self):
        # A UDP "connect" sends nothing; it only asks the kernel which address a packet to a
        # routable network would leave from
        import socket

        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect(("10.254.254.254", 1))
            return s.getsockname()[0]
        except OSError:
            return None
        finally:
            s.close()


class _Every:
    interrupted = False  # CPython runs signal handlers in the main thread only

    def __init__(self, seconds, func):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(seconds, func), daemon=True)
        self._thread.start()

    def _run(self, seconds, func):
        while not self._stop.wait(seconds):
            func()

    def stop(self):
        self._stop.set()


def every(seconds, func):
    return _Every(seconds, func)


class _IrqFlag:
    # What a pin handler needs of MicroPython's asyncio.ThreadSafeFlag: set() from any thread
    # (a GPIO library's callback thread), `await wait()` in the loop, which clears it

    def __init__(self):
        self._state = False
        self._loop = self._event = None  # bound to the loop of the first wait()

    def set(self):
        self._state = True
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._event.set)
            except RuntimeError:  # the loop has closed: nobody waits any more
                pass

    def clear(self):
        self._state = False

    async def wait(self):
        if self._event is None:
            import asyncio

            self._event = asyncio.Event()
            self._loop = asyncio.get_running_loop()
        while not self._state:
            self._event.clear()
            await self._event.wait()
        self._state = False


def irq_flag():
    return _IrqFlag()
