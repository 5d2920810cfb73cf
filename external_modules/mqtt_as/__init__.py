"""Resilient asyncio MQTT 3.1.1 client for MicroPython and CPython, with an mqtt_as-style API.

    from mqtt_as import MQTTClient, config
    config.update(server="192.168.0.10", subs_cb=callback)
    client = MQTTClient(config)
    await client.connect()          # raises MQTTError once; later outages are handled inside
    await client.subscribe("home/+/temp", qos=1)
    await client.publish("home/node/state", "ON", retain=True, qos=1)

A dead link is found within ping_interval + response_time; the client then reconnects with
backoff, re-subscribes, re-sends unacknowledged QoS 1 (same id, DUP set) and flushes its bounded
offline queue. See docs/mqtt_as.md."""

# Few names: this package's dict holds 11 at most while it is imported (its submodules' names
# among them, dropped once the layers are merged), then 9, and 10 with conn, options or subs
# (one at a time), within a table of 12 slots (17 take 96 bytes more; from files, where the
# three are kept, 17)
from . import codec, link, session, wire

VERSION = (1, 1, 0)

try:  # from a file (.py, .mpy), not frozen: reading (compiling) them takes far more heap than
    __import__("os").stat(__file__)  # they keep, so they are read now, with the rest, and kept
    from . import conn, options, subs  # noqa: F401
except OSError:  # frozen: its __file__ is a name, not a path
    pass


class MQTTClient:
    # One class, not four: the client is written in layers, each a class in a module of its own
    # (wire.py: the bytes of a connection; link.py: its upkeep; session.py: what MQTT keeps),
    # whose names are copied in here below, and the layer classes dropped. A class takes 160
    # bytes (64-bit) and its own table's spare slots: one table for all, 37 slots (up to 37
    # names, each class's __module__ and __qualname__ once: 38 grow it to 47, 160 bytes more).
    # So a method with one caller is written out there, options are items of _opts (see
    # options.py), and there are no class defaults (__getattr__ has them). The layers define
    # no name twice (tests check it)

    def __init__(self, cfg):
        _rare("options").init(self, cfg)

    def __getattr__(self, name):
        # The defaults of what an instance holds only once set, not names of the class's table:
        # the event interface (queue_len > 0: queue, up, down), a large packet being read, the
        # writers and the publishers waiting for their turn (wire.py, session.py); DEBUG (set
        # MQTTClient.DEBUG = True to print more). No allocation here: the reader asks for each
        # packet, with the heap full too
        if name in ("queue", "up", "down", "_large", "_lockq", "_slotq"):
            return None
        if name == "DEBUG":
            return False
        # connect(), disconnect(), close(), broker_up() and the connect-time code are conn.py's,
        # subscribe() and unsubscribe() subs.py's, loaded for the call and dropped: a connected
        # client keeps none
        if name[:2] != "__":
            f = "subs" if name in ("subscribe", "unsubscribe") else "conn"
            f = getattr(_rare(f), name, None)
            if f is not None:
                return _bound(f, self)
        raise AttributeError(name)

    def publish(self, topic, msg, retain=False, qos=0):  # hands back a coroutine: one frame less
        """Publish; return True once written (QoS 0) or acknowledged (QoS 1).

        While the link is down the message waits in the offline queue; the call returns False
        if the queue had to drop it (see docs/mqtt_as.md, "offline queue"). Raises ValueError
        for a bad topic or a packet over max_packet_size, MQTTError for a QoS 1 message that
        killed the link on every send (see max_repubs).

        msg may also be made piece by piece, so that a large payload never exists whole: an
        object (not str, bytes or bytearray) whose len() is the payload's length and whose
        iteration yields bytes pieces adding up to exactly that; it is iterated on every send
        (re-sends too). Pieces that add up to another length are cut or padded with spaces to
        len() (the packet stays whole) and an error is logged."""
        t = codec.check_topic(topic)
        if qos not in (0, 1):
            raise ValueError("qos must be 0 or 1, got %r" % (qos,))
        m = msg.encode() if isinstance(msg, str) else msg
        if isinstance(m, memoryview):
            m = bytes(m)
        if self._opts[14]:  # max_packet_size
            from .codec import check_size

            check_size("PUBLISH", 2 + len(t) + len(m) + 2 * qos, self._opts[14])
        if self._connected == 2 and not self._outq:  # up
            if qos == 0:
                return self._publish0(t, m, retain)
            rec = self._record(t, m, qos, retain)
            if hasattr(m, "decode") or len(self._inflight) >= self._opts[16]:  # max_inflight
                return self._emit(rec, True)
            # A chunked payload (Home Assistant discovery's, at a node's first connect: its
            # heap peak): _write writes it and awaits the PUBACK itself, no _emit frame under
            # the write while the pieces are made
            self._next_pid(rec)
            return self._write(rec[7], rec)  # the record's header (session.py)
        rec = self._record(t, m, qos, retain)
        self._enqueue(rec)
        return self._emit(rec, None)

    async def _publish0(self, t, m, retain):
        try:
            await self._send(codec.publish_header(t, len(m), 0, retain, 0, 0), m)
            return True
        except OSError:  # the link died under us: the message waits for the next one
            rec = self._record(t, m, 0, retain)
            self._enqueue(rec)
            return await self._emit(rec, None)

    def isconnected(self):
        return self._connected > 0  # True while restoring a session too

    def stats(self):
        """Counters for status reports: connects, reconnects, dropped, downtime (s), faults..."""
        # One dict literal, its table made at its size (11 slots) at once: built key by key it
        # grew 2, 4 ... 12 slots, a new table each time, inside the status report. The order of
        # _stats is options.py's
        st = self._stats
        down = st[3]
        if self._down_since is not None and st[0]:
            down += codec.ticks_diff(codec.ticks_ms(), self._down_since) / 1000
        return {
            "connects": st[0], "reconnects": st[1], "dropped": st[2], "downtime": down,
            "faults": st[4], "last_fault": st[5], "stray_acks": st[6], "callback_errors": st[7],
            "discarded": st[8], "queued": len(self._outq), "inflight": len(self._inflight),
        }  # fmt: skip


def _merge(*layers):
    for layer in layers:
        for name, value in layer.__dict__.items():  # MicroPython: a copy of the class's dict
            if name[:2] != "__":
                setattr(MQTTClient, name, value)


_merge(session.Session, link.Link, wire.Wire)
del _merge, session.Session, link.Link, wire.Wire  # the layers live on in MQTTClient alone
# The submodules stay in sys.modules; their names here are not needed (`mqtt_as.wire` still
# works: __getattr__ below)
del link, session, wire
globals().pop("mpsock", None)  # MicroPython's (wire.py imported it)


def _bound(f, c):
    # A function of conn.py or subs.py as a method of client c (made here: closed over in
    # __getattr__, its arguments were cells made at every call of it, a default's too)
    return lambda *a, **k: f(c, *a, **k)


def _rare(module):
    # conn.py, options.py or subs.py. Frozen, each use imports it and drops it at once from
    # sys.modules and from this package: it lives as long as a function of it runs (a running
    # function holds its module's globals), and loading it again takes a few hundred bytes for
    # a moment
    m = globals().get(module)
    if m is None:
        import sys

        name = __name__ + "." + module
        m = __import__(name, None, None, ("_",))
        sys.modules.pop(name, None)
        globals().pop(module, None)
    return m


def __getattr__(name):
    # Made on first use, so that a connected client never pays for them: `config`, the errors;
    # and submodules, as MicroPython asks here first for `from mqtt_as import tls`. (Tuples
    # written in place, not as module names: at 24 names this dict's table grows from 23 slots
    # to 29, a 464-byte block wanted at the first subscribe(), when subs.py adds its name.)
    # MicroPython's dir() asks here for every name it knows ("", "0", "__init__"...): only the
    # package's own submodules are imported, so dir() lists the public names and raises nothing
    if name == "config":
        value = dict(_rare("options")._DEFAULTS)
        value["ssl_params"] = {}
    elif name in ("MQTTError", "MQTTRefused", "MQTTSubscribeError"):
        value = getattr(__import__(__name__ + ".errors", None, None, (name,)), name)
    elif name in (
        "codec", "conn", "cpython", "errors", "events", "link", "mpsock", "options", "session",
        "subs", "ticks", "tls", "topic", "wire", "wlan",
    ):  # fmt: skip
        try:
            return __import__(__name__ + "." + name, None, None, (name,))
        except ImportError as e:
            if name in str(e):
                raise AttributeError(name) from None  # left out of this build
            if codec.CPYTHON:
                raise  # the submodule is there but could not be imported
            # MicroPython's dir() lets AttributeError alone pass: a submodule this port cannot
            # load (tls with no ssl module) says why in one (`import mqtt_as.tls` still raises
            # the ImportError)
            raise AttributeError("%s: %s" % (name, e)) from None
    else:
        raise AttributeError(name)
    globals()[name] = value  # found directly from now on
    return value


if codec.CPYTHON:  # dir(): the public names too (MicroPython's dir() finds them above)

    def __dir__():
        return sorted(set(globals()) | set(__all__))


__all__ = ("MQTTClient", "MQTTError", "MQTTRefused", "MQTTSubscribeError", "VERSION", "config")
