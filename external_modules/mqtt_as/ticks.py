"""The clock and platform shims live in codec.py (one module less on MicroPython), the client id
in options.py; this name stays for applications that imported it (the client never does)."""

from .codec import CPYTHON, const, rand8, ticks_diff, ticks_ms  # noqa: F401
from .options import default_client_id  # noqa: F401
