"""The clock and platform shims live in codec.py (one module less on MicroPython), the client id
in options.py; this name stays for applications that imported it (the client never does)."""

from .codec import CPYTHON, const, ticks_diff, ticks_ms  # noqa: F401
from .options import default_client_id  # noqa: F401


def rand8():
    """A random byte (the client draws its reconnect jitter in link.py)."""
    try:
        from random import getrandbits

        return getrandbits(8)
    except ImportError:
        return ticks_ms() & 0xFF
