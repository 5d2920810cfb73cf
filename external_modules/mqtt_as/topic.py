"""MQTT topic names and filters: validation and `+`/`#` matching (MQTT 3.1.1 §4.7).

Works on bytes, the client's internal form; str arguments are accepted too.
"""


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


def check_filter(topic_filter, limit=0, kind="SUBSCRIBE"):
    """Return the topic filter as bytes, or raise ValueError if it is not a valid filter or a
    SUBSCRIBE (UNSUBSCRIBE) of it alone would be over limit > 0 bytes."""
    f = _b(topic_filter)
    if not f or len(f) > 0xFFFF or b"\x00" in f:
        raise ValueError("topic filter %r must be 1 to 65535 bytes without NUL" % (topic_filter,))
    levels = f.split(b"/")
    last = len(levels) - 1
    for i, level in enumerate(levels):
        if b"#" in level and (level != b"#" or i != last):
            raise ValueError("topic filter %r: '#' must be a whole, final level" % (topic_filter,))
        if b"+" in level and level != b"+":
            raise ValueError("topic filter %r: '+' must be a whole level" % (topic_filter,))
    check_size(kind, len(f) + (5 if kind == "SUBSCRIBE" else 4), limit)  # id, length, QoS
    return f


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
