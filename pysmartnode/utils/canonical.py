"""Canonical JSON: sorted keys, no spaces, UTF-8 as is; the same bytes on CPython and MicroPython.

Used for signatures and for the hash of a running config. Numbers are written as each
runtime's json writes them, which agree for ints and double-precision floats (MicroPython's
unix port; boards with single-precision floats print fewer digits, so a node verifies the bytes
it received and never re-serialises them). NaN and infinities are refused, as JSON has none.
"""

import json


def dumps(obj):
    """obj as canonical JSON text (str).

    Raises:
        TypeError: a value JSON cannot hold, or a dict key that is not a str.
        ValueError: NaN or an infinity.
    """
    parts = []
    _write(obj, parts.append)
    return "".join(parts)


def _write(obj, put):
    # put(text) for each piece in order: a list's append (dumps) or a hash's (config_hash)
    if obj is None:
        put("null")
    elif obj is True:
        put("true")
    elif obj is False:
        put("false")
    elif isinstance(obj, str):
        put(_string(obj))
    elif isinstance(obj, int):
        put(str(int(obj)))
    elif isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise ValueError("canonical JSON has no NaN or infinity")
        put(json.dumps(obj))
    elif isinstance(obj, dict):
        put("{")
        first = True
        for key in sorted(obj):
            if not isinstance(key, str):
                raise TypeError("canonical JSON keys must be str, got %r" % (key,))
            if not first:
                put(",")
            first = False
            put(_string(key))
            put(":")
            _write(obj[key], put)
        put("}")
    elif isinstance(obj, (list, tuple)):
        put("[")
        for i, item in enumerate(obj):
            if i:
                put(",")
            _write(item, put)
        put("]")
    else:
        raise TypeError("canonical JSON cannot hold %s" % type(obj).__name__)


_ESCAPED = '"\\\n\r\t\b\f'  # these characters are written as a backslash and ...
_ESCAPES = '"\\nrtbf'  # ... these


def _string(text):
    # Written here, not by json.dumps: MicroPython's writes \b and \f as \u0008 and \u000c
    out = ['"']
    start = 0
    for i, ch in enumerate(text):
        if ch < " " or ch == '"' or ch == "\\":
            out.append(text[start:i])
            short = _ESCAPED.find(ch)
            out.append("\\" + _ESCAPES[short] if short >= 0 else "\\u%04x" % ord(ch))
            start = i + 1
    out.append(text[start:])
    out.append('"')
    return "".join(out)


def config_hash(components, order=None):
    """The hash of a component config, as the SmartServer computes a folder file's.

    sha256 (64 lowercase hex characters, str) of the canonical JSON of
    {"components": components, "order": order}. order defaults to the registry's build order:
    the names in components["_order"], then the other keys ("_order" is no component).

    Raises:
        TypeError, ValueError: a value canonical JSON cannot hold (see dumps).
    """
    import hashlib
    from binascii import hexlify

    if order is None:
        first = components.get("_order")
        order = [n for n in first if n in components] if isinstance(first, list) else []
        order += [n for n in components if n != "_order" and n not in order]
    entries = {}
    for name in order:
        entries[name] = components[name]
    # Fed to the hash piece by piece: the whole text (and a list of every piece, one growing
    # block of 8 bytes a piece on a 64-bit port) is never held, the node's largest allocation
    # at start-up before this
    digest = hashlib.sha256()
    _write({"components": entries, "order": order}, lambda text: digest.update(text.encode()))
    return hexlify(digest.digest()).decode()
