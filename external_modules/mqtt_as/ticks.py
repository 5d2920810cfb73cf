"""Clock and platform shims shared by the client's modules (MicroPython has them built in)."""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


try:
    from time import ticks_diff, ticks_ms
except ImportError:  # CPython: the client keeps its own two-line shim
    from time import monotonic

    def ticks_ms():
        return int(monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b


try:
    from sys import implementation

    CPYTHON = implementation.name == "cpython"
except ImportError:
    CPYTHON = False


def rand8():
    """A random byte, for jitter."""
    try:
        from random import getrandbits

        return getrandbits(8)
    except ImportError:
        return ticks_ms() & 0xFF


def default_client_id():
    """machine.unique_id() in hex on a board, else a random id."""
    try:
        from binascii import hexlify

        from machine import unique_id

        return hexlify(unique_id())
    except ImportError:
        from random import getrandbits

        return "mqtt_as_%08x" % getrandbits(32)
