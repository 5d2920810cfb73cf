"""HMAC-SHA256 (RFC 2104) built on hashlib.sha256, for MicroPython, which has no `hmac` module.

`digest(key, msg)` equals CPython's `hmac.new(key, msg, "sha256").digest()`; `equal(a, b)`
compares two digests in a time that does not depend on where they differ.
"""

import hashlib

_BLOCK = 64  # SHA-256 block size in bytes


def digest(key, msg):
    """The 32-byte HMAC-SHA256 of msg (bytes) under key (bytes or str)."""
    if isinstance(key, str):
        key = key.encode()
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key + bytes(_BLOCK - len(key))
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(msg)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()


def hexdigest(key, msg):
    """digest() as 64 lowercase hex characters (bytes)."""
    from binascii import hexlify

    return hexlify(digest(key, msg))


def equal(a, b):
    """True if a == b (bytes or str), without stopping at the first difference."""
    if isinstance(a, str):
        a = a.encode()
    if isinstance(b, str):
        b = b.encode()
    if len(a) != len(b):
        return False
    diff = 0
    for x, y in zip(a, b):
        diff |= x ^ y
    return diff == 0
