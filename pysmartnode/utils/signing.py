"""Signed messages from the SmartServer to a node (docs/smartserver.md, "Protocol").

A signed payload is the canonical JSON `{"body":<body>,"sig":"<hex>"}` where body is the
canonical JSON of a dict and sig its HMAC-SHA256 under the device's secret. The receiver checks
the signature over the bytes it received, before it parses them, and never re-serialises: the
float width of a board cannot break a signature.
"""

_PREFIX = b'{"body":'
_SIG = b',"sig":"'
_TAIL = 74  # len(',"sig":"') + 64 hex digits + len('"}')


def seal(secret, body):
    """The signed payload (bytes) of body (a dict) under secret (str or bytes)."""
    from pysmartnode.utils.canonical import dumps
    from pysmartnode.utils.hmac_sha256 import hexdigest

    text = dumps(body).encode()
    return _PREFIX + text + _SIG + hexdigest(secret, text) + b'"}'


def unseal(secret, payload):
    """The body (a dict) of a payload signed with secret.

    Raises:
        ValueError: the payload is not signed, or not by this secret (tampered or forged).
    """
    import json

    from pysmartnode.utils.hmac_sha256 import equal, hexdigest

    if isinstance(payload, str):
        payload = payload.encode()
    if (
        len(payload) < len(_PREFIX) + 2 + _TAIL
        or payload[: len(_PREFIX)] != _PREFIX
        or payload[-_TAIL : -_TAIL + len(_SIG)] != _SIG
        or payload[-2:] != b'"}'
    ):
        raise ValueError("not a signed message")
    text = payload[len(_PREFIX) : -_TAIL]
    if not equal(hexdigest(secret, text), payload[-_TAIL + len(_SIG) : -2]):
        raise ValueError("bad signature")
    body = json.loads(text)
    if not isinstance(body, dict):
        raise ValueError("signed body is not an object")
    return body


def check(body, device_id, last_counter):
    """Raises ValueError unless body is for device_id and newer than last_counter (replay)."""
    if body.get("id") != device_id:
        raise ValueError("signed for another device: %r" % (body.get("id"),))
    counter = body.get("counter")
    if not isinstance(counter, int) or isinstance(counter, bool) or counter <= last_counter:
        raise ValueError("replayed or stale message: counter %r <= %r" % (counter, last_counter))
