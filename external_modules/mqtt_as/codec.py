"""MQTT 3.1.1 packet encoding and decoding, topic validation and matching: pure functions, no
I/O; and the clock and platform shims every module of the client shares (MicroPython has them
built in).

Every function here is shared by the client and its property tests. Encoders return bytes or a
bytearray ready for one socket write; decoders raise ValueError on malformed input, which the
client treats as a dead link.
"""

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


CPYTHON = __import__("sys").implementation.name == "cpython"  # binds no `sys` here


# Packet types: private, so they take no room in the module's dict on MicroPython (the
# modules that read packets keep their own). Names in this dict: 16, within its table's 17
# slots (18: 23 slots, 96 bytes more). What only subscribe() and unsubscribe() use (their
# packets, filter validation) is subs.py's, loaded for each use; what only construction uses
# (CONNECT, the client id) options.py's
_PUBLISH = const(0x30)
_PUBACK = const(0x40)
_MAX_REMAINING = const(268435455)  # four length bytes, MQTT 3.1.1 §2.2.3


def varint(n):
    """Encode a remaining length (0 .. 268,435,455) in 1 to 4 bytes."""
    if n < 0 or n > _MAX_REMAINING:
        raise ValueError("MQTT remaining length out of range: %d" % n)
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_length(buf, pos):
    """Decode the remaining length that starts at buf[pos].

    Returns (length, position after it), or None when buf ends before the length does.
    Raises ValueError for a length longer than four bytes.
    """
    value = 0
    shift = 0
    end = len(buf)
    for i in range(4):
        if pos + i >= end:
            return None
        byte = buf[pos + i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos + i + 1
        shift += 7
    raise ValueError("malformed remaining length")


def _field(b):
    n = len(b)
    if n > 0xFFFF:
        raise ValueError("MQTT string longer than 65535 bytes")
    return bytes((n >> 8, n & 0xFF)) + b


def publish_header(topic, payload_len, qos, retain, pid, dup):  # no defaults: see session.py
    """Fixed and variable header of a PUBLISH; the payload follows it on the wire.

    Returns a bytearray so that a re-send can set the DUP bit in place.
    """
    n = len(topic)
    rest = 2 + n + payload_len + (2 if qos else 0)
    first = _PUBLISH | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0)
    if rest < 128:  # the common small message: one length byte, a topic under 128 bytes
        hdr = bytearray((first, rest, 0, n))
        hdr += topic
    else:
        hdr = bytearray((first,))
        hdr += varint(rest)
        hdr += _field(topic)
    if qos:
        hdr.append(pid >> 8)
        hdr.append(pid & 0xFF)
    return hdr


def puback(pid):
    return bytes((_PUBACK, 2, pid >> 8, pid & 0xFF))


def parse_publish(first, body):
    """Split a PUBLISH body. Returns (topic, msg, qos, retain, pid): bytes, bytes, int, bool, int."""
    qos = (first >> 1) & 3
    if qos > 1:
        # We subscribe with QoS 0 or 1 only, so a broker must never send QoS 2 (or 3, invalid)
        raise ValueError("PUBLISH with QoS %d" % qos)
    if len(body) < 2:
        raise ValueError("PUBLISH too short")
    tlen = body[0] << 8 | body[1]
    start = 2 + tlen + (2 if qos else 0)
    if tlen == 0 or start > len(body):
        raise ValueError("PUBLISH topic length %d does not fit" % tlen)
    topic = bytes(body[2 : 2 + tlen])
    pid = body[2 + tlen] << 8 | body[3 + tlen] if qos else 0
    if qos and pid == 0:
        raise ValueError("PUBLISH QoS 1 with packet id 0")
    # One copy of the payload (slicing a bytearray first would make two)
    return topic, bytes(memoryview(body)[start:]), qos, bool(first & 1), pid


# ------------------------------------------------------------------ topic names and filters
# Validation and `+`/`#` matching (MQTT 3.1.1 §4.7), on bytes, the client's internal form; str
# arguments are accepted too. Here, not in a module of their own: one module object, dict and
# table fewer on the heap (topic.py keeps the old name)


def _b(t):
    try:
        b = t.encode() if isinstance(t, str) else bytes(t)
        b.decode()  # MQTT strings are UTF-8 (3.1.1 §1.5.3): a broker drops a client that lies
    except UnicodeError:
        raise ValueError("topic %r is not valid UTF-8" % (t,)) from None
    return b


def check_topic(topic):
    """Return the topic name as bytes, or raise ValueError if it cannot be published to."""
    t = _b(topic)
    if not t or len(t) > 0xFFFF:
        raise ValueError("topic must be 1 to 65535 bytes, got %d" % len(t))
    if b"+" in t or b"#" in t or b"\x00" in t:
        raise ValueError("topic %r: wildcards and NUL are not allowed in a topic name" % (topic,))
    return t


def check_size(kind, rest, limit):
    """Raise ValueError if a packet of `rest` bytes after its fixed header is over limit > 0."""
    size = 1 + rest + (1 if rest < 128 else 2 if rest < 16384 else 3 if rest < 2097152 else 4)
    if 0 < limit < size:
        raise ValueError("%s of %d bytes is over max_packet_size %d" % (kind, size, limit))


def matches(topic_filter, topic):
    """True if the topic name matches the filter, as a broker would decide.

    `sport/#` matches `sport` too; `+` and `#` at the first level do not match topics starting
    with `$` (such as `$SYS/...`).
    """
    f = topic_filter.encode() if isinstance(topic_filter, str) else topic_filter
    t = topic.encode() if isinstance(topic, str) else topic
    if f == t:
        return True
    if t[:1] == b"$" and f[:1] in (b"+", b"#"):
        return False
    levels = t.split(b"/")
    n = len(levels)
    for i, level in enumerate(f.split(b"/")):
        if level == b"#":
            return True
        if i >= n or (level != b"+" and level != levels[i]):
            return False
    return i + 1 == n
