"""The client's exceptions: one root, an OSError, as mqtt_as raised."""


class MQTTError(OSError):
    """Root of every error the client raises."""


class MQTTRefused(MQTTError):
    """The broker answered CONNECT with a refusal; `code` holds the CONNACK return code."""


class MQTTSubscribeError(MQTTError):
    """The broker answered SUBSCRIBE with the failure code 0x80."""


_REFUSALS = (
    "",
    "unacceptable protocol version",
    "client id rejected",
    "server unavailable",
    "bad user name or password",
    "not authorised",
)


def refused(host, port, rc):
    """The MQTTRefused for CONNACK return code rc."""
    text = _REFUSALS[rc] if rc < len(_REFUSALS) else "unknown reason"
    e = MQTTRefused("broker %s:%d refused the connection: %s (code %d)" % (host, port, text, rc))
    e.code = rc
    return e


def why(e):
    """An exception as one line of text: its class and its message."""
    text = str(e)
    return "%s: %s" % (type(e).__name__, text) if text else type(e).__name__


def sub_error(topic, deaths=None):
    """subs.py's MQTTSubscribeError: the broker refused topic (SUBACK 0x80) or, with deaths, the
    subscription was dropped (logged by lost(), raised by subscribe())."""
    if deaths is None:
        return MQTTSubscribeError("broker refused the subscription to %r" % (topic,))
    return MQTTSubscribeError(
        "the subscription to %r: the link died after each of its %d SUBSCRIBEs"
        " (a filter the broker rejects by disconnecting: too long, or denied?)" % (topic, deaths)
    )
