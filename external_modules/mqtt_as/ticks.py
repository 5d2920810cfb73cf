"""The clock and platform shims live in codec.py (one module less on MicroPython); this name
stays for cpython.py, tls.py and applications that imported it."""

from .codec import CPYTHON, const, rand8, ticks_diff, ticks_ms  # noqa: F401
from .options import default_client_id  # noqa: F401
