"""The platform layer: the only code that knows which port it runs on (docs/platform.md).

Everything else imports from here: `from pysmartnode.platform import const, ticks_ms, device_id`.
Each port module (cpython, unix, board) has the same names:

    PLATFORM                 "cpython", "unix", or the board's sys.platform ("esp32", "rp2", ...)
    KEEPS_TIME               True where the operating system keeps the clock (no NTP needed)
    const(x)                 micropython.const, or a stand-in on CPython
    ticks_ms() ticks_diff(a, b) ticks_add(t, ms)   a millisecond clock that wraps on boards
    sleep_ms(ms)             asyncio's sleep in milliseconds (MicroPython's sleep() makes a float:
                             an allocation, which a task at the heap's edge may not afford)
    device_id()              the chip id, or a clean host name on Linux
    mem_free() mem_alloc()   heap figures (None on CPython); collect() runs the garbage collector
    reset_cause()            why the board last started ("power on", "watchdog", ...) or None
    restart(code)            ends the node now, from any thread or timer: machine.reset() on a
                             board, a non-zero exit on Linux so a supervisor restarts it
    every(seconds, func)     calls func outside the event loop every few seconds (thread or
                             machine.Timer); returns an object with stop() and `interrupted`
                             (True once a Ctrl-C meant for the node landed in that thread)
    watch(timeout, period, reason, reason_file)   unix port without ffi only: the watchdog's
                             check in a shell process of its own (no thread; platform/unix.py)
    Link()                   the network link: connect(), isconnected(), ip(), rssi(), on_change(cb)
    led(pin, active_high)    an output with on()/off() for the status LED (boards only)
    irq_flag()               a flag a pin interrupt handler may set (hard IRQ: no allocation) and
                             a task awaits: asyncio.ThreadSafeFlag, a thread-safe stand-in on
                             CPython, None where MicroPython's asyncio has none (poll instead)
    ntp_sync(server)         sets the RTC from NTP; False where the OS keeps the time
"""

import sys

if sys.implementation.name != "micropython":
    from pysmartnode.platform import cpython as _port
elif sys.platform in ("linux", "darwin"):
    from pysmartnode.platform import unix as _port
else:
    from pysmartnode.platform import board as _port
# Not a name of this package for good: its table then stays at 8 slots (with the port module,
# the host's, and the one loaded for a lookup)
del sys


def __getattr__(name):
    # The port module's names, looked up there: not copied here (`import *` would give this
    # package a second dict of ~28 names, 0.3 KiB of heap on the unix port)
    try:
        return getattr(_port, name)
    except AttributeError:
        pass
    try:  # a submodule (`from pysmartnode.platform import board`): MicroPython asks here
        return __import__(name, globals(), None, [], 1)
    except ImportError:
        raise AttributeError(name) from None
