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

import asyncio

from . import codec
from .codec import ticks_diff, ticks_ms
from .session import Session, error, wake
from .topic import check_size, check_topic

VERSION = (1, 1, 0)

# mqtt_as's config as (key, default) pairs: constants, no heap when frozen (see __getattr__)
_DEFAULTS = (
    ("server", None),
    ("port", 0),  # 0: 1883, or 8883 with ssl
    ("client_id", None),  # None: derived from machine.unique_id() or random
    ("user", ""),
    ("password", ""),
    ("keepalive", 60),  # seconds, sent to the broker
    ("ping_interval", 0),  # seconds of silence before a PINGREQ; 0: keepalive / 4
    ("response_time", 10),  # seconds to wait for CONNACK, SUBACK, PINGRESP, PUBACK, write progress
    ("max_repubs", 4),  # QoS 1 re-sends per connection before the link is declared dead
    ("clean_init", True),  # clean session on the first connect
    ("clean", True),  # clean session on reconnects
    ("will", None),  # (topic, msg, retain, qos)
    ("subs_cb", None),  # subs_cb(topic: bytes, msg: bytes, retained: bool), sync or async
    ("wifi_coro", None),  # called with False on every outage, True after every connect
    ("connect_coro", None),  # called with the client after every connect
    ("ssl", False),  # True, or an ssl.SSLContext
    ("ssl_params", None),  # None: {}; see tls.py: cadata, ca_certs, cert, key, certfile...
    ("queue_len", 0),  # > 0: incoming messages go to client.queue (async iterator) instead
    ("out_queue_len", 20),  # publishes held while offline; see docs for the overflow policy
    ("max_inflight", 32),  # QoS 1 messages awaiting PUBACK at once; more publishers wait
    ("max_packet_size", 0),  # > 0: publish() refuses larger packets (the broker's limit)
    ("max_incoming", 0),  # > 0: incoming messages larger than this are discarded (and acked)
    ("reconnect_max", 0.5),  # seconds, cap of the reconnect backoff (30 s after a refusal)
    ("outage_summary", 60),  # seconds between the log lines that sum up a long outage
    ("link", None),  # object with async up() and isconnected(): Wi-Fi and the like
    ("ssid", None),  # with no link: join this Wi-Fi network first (boards only, see wlan.py)
    ("wifi_pw", None),
    ("log", None),  # log(level: str, msg: str); None prints warnings and errors
    ("oom_cb", None),  # oom_cb(n) after the n-th connect attempt in a row lost to MemoryError
    ("mqttv5", False),  # not supported; True raises ValueError
)


class MQTTClient(Session):
    DEBUG = False
    queue = up = down = None  # the event interface (queue_len > 0): set on the instance then
    _max_packet = 0  # max_packet_size, 0: no limit (set on the instance otherwise)

    def __init__(self, cfg):
        c = dict(_DEFAULTS)
        for key in cfg:
            # mqtt_as keys that mean nothing here are accepted: its config dicts work as they are
            if key not in c and key not in ("gateway", "mqttv5_con_props"):
                raise ValueError("unknown mqtt_as config key %r" % (key,))
        c.update(cfg)
        if c["mqttv5"]:
            raise ValueError("MQTT v5 is not supported by this client; use MQTT 3.1.1")
        if not c["server"]:
            raise ValueError("config['server'] must name the broker")
        keepalive = c["keepalive"]
        if not 0 <= keepalive < 65536:
            raise ValueError("keepalive must be 0 to 65535 s, got %r" % (keepalive,))
        if not c["outage_summary"] > 0:
            raise ValueError("outage_summary must be > 0 s, got %r" % (c["outage_summary"],))
        if not 1 <= c["max_inflight"] <= 65000:
            raise ValueError("max_inflight must be 1 to 65000, got %r" % (c["max_inflight"],))
        will = c["will"]
        if will:
            if len(will) != 4 or will[3] not in (0, 1):
                raise ValueError("will must be (topic, msg, retain, qos) with qos 0 or 1")
            will = (check_topic(will[0]), codec.utf8(will[1]), will[2], will[3])
        client_id = c["client_id"]
        if not client_id:
            from .codec import default_client_id  # a function's name: not one more global

            client_id = default_client_id()
        super().__init__(c, codec.utf8(client_id), will)
        self._subs_cb = c["subs_cb"]
        self._max_repubs = c["max_repubs"]
        self._max_inflight = c["max_inflight"]
        if c["max_packet_size"]:
            self._max_packet = c["max_packet_size"]
        if c["queue_len"] > 0:  # the event interface of mqtt_as
            from .events import MsgQueue

            self.queue = MsgQueue(c["queue_len"])
            self.up = asyncio.Event()  # set on every connect; the application clears it
            self.down = asyncio.Event()  # set on every outage; the application clears it
        self._subs = {}  # filter bytes -> [qos, callback or None, pending, deaths] (subs.py)
        self._granted = {}  # filter bytes -> (qos, granted code) on the current connection
        self._outq = []  # records waiting for the link
        self._seq = 0
        self._reported = None  # the last state told to wifi_coro / up / down

    async def connect(self, quick=False):
        """Connect once; raise MQTTError (MQTTRefused for a CONNACK refusal) on failure.

        After success the client keeps the connection by itself until disconnect() or close().
        `quick` is accepted for mqtt_as compatibility (there is no Wi-Fi stability wait)."""
        if self._running:
            raise error("connect() called twice; the client reconnects by itself")
        self._running = True
        try:
            clean_init, clean = self._opts[3], self._opts[2]
            if clean_init and not clean:
                # Start from an empty session, then keep the session from the first outage on
                await self._open(True, False)
                self._stop_io()
                try:
                    await self._send(codec.DISCONNECT_PACKET)
                finally:
                    self._drop_connection()
                await self._open(False)
            else:
                await self._open(clean_init)
            self._supervisor = self._spawn(self._keep_connected())  # short of heap: raises here
        except Exception as e:
            self._running = False
            self._drop_connection()
            from .errors import MQTTError, why

            if isinstance(e, MQTTError):
                raise
            msg = "cannot connect to %s:%d: %s" % (self._host, self._port, why(e))
            raise MQTTError(msg) from None

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
        t = check_topic(topic)
        if qos not in (0, 1):
            raise ValueError("qos must be 0 or 1, got %r" % (qos,))
        m = msg.encode() if isinstance(msg, str) else msg
        if isinstance(m, memoryview):
            m = bytes(m)
        if self._max_packet:
            check_size("PUBLISH", 2 + len(t) + len(m) + 2 * qos, self._max_packet)
        if self._connected == 2 and not self._outq:  # up
            if qos == 0:
                return self._publish0(t, m, retain)
            return self._emit(self._record(t, m, qos, retain), True)
        rec = self._record(t, m, qos, retain)
        self._enqueue(rec)
        return self._await_record(rec)

    async def _publish0(self, t, m, retain):
        try:
            await self._send(codec.publish_header(t, len(m), 0, retain), m)
            return True
        except OSError:  # the link died under us: the message waits for the next one
            rec = self._record(t, m, 0, retain)
            self._enqueue(rec)
            return await self._await_record(rec)

    def subscribe(self, topic, qos=0, cb=None):  # a coroutine of subs.py: one frame less
        """Subscribe and wait for the SUBACK; return the granted QoS.

        cb(topic, msg, retained), sync or async, receives the messages matching this filter in
        addition to subs_cb. Raises ValueError for an invalid filter (or one over
        max_packet_size) or a filter that already has another callback, MQTTSubscribeError if
        the broker refuses it, or closed the link after each of max_repubs + 1 SUBSCRIBEs of it.
        The same filter and QoS again on the same connection (mqtt_as applications re-subscribe
        in connect_coro) sends no new SUBSCRIBE, so retained messages are not delivered twice."""
        from .subs import subscribe

        return subscribe(self, topic, qos, cb)

    def unsubscribe(self, topic):  # a coroutine of subs.py
        """Unsubscribe and wait for the UNSUBACK. Not being subscribed is not an error. Raises
        ValueError for an invalid filter, MQTTError if the link died after each of max_repubs
        + 1 UNSUBSCRIBEs of it (the subscription is forgotten here all the same)."""
        from .subs import unsubscribe

        return unsubscribe(self, topic)

    def isconnected(self):
        return self._connected > 0  # True while restoring a session too

    async def broker_up(self):
        """True if the broker answers now: data in the last second, or a PINGRESP in time."""
        if not self._connected:
            return False
        if ticks_diff(ticks_ms(), self._last_rx) < 1000:
            return True
        sent = ticks_ms()
        try:
            await self._send(codec.PINGREQ_PACKET)
        except OSError:
            return False
        deadline = self._resp_s * 1000
        while self._connected and ticks_diff(ticks_ms(), sent) < deadline:
            if ticks_diff(self._last_rx, sent) >= 0:
                return True
            await asyncio.sleep(0.05)
        return False

    async def disconnect(self):
        """Send DISCONNECT (no will) and close; connect() may be called again afterwards."""
        self._running = False
        self._cancel(self._supervisor)
        self._stop_io()  # the broker closes after DISCONNECT: that EOF is no fault
        if self._connected:
            try:
                await self._within(self._send(codec.DISCONNECT_PACKET))
            except Exception as e:  # the broker is gone anyway; closing is all that is left
                from .errors import why

                self._log("debug", "DISCONNECT not sent: %s" % why(e))
        self._drop_connection()
        self._release_waiters()

    def close(self):
        """Close the socket and cancel every task the client started; no DISCONNECT is sent."""
        self._running = False
        # First: the drop wakes publishers waiting for a slot in flight
        for rec in self._outq + self._slotq + list(self._inflight.values()):
            self._done(rec, False)
        self._outq, self._inflight, self._slotq = [], {}, []
        self._drop_connection()
        for task in list(self._tasks):
            self._cancel(task)
        self._release_waiters()

    def _release_waiters(self):
        for pid in list(self._waiters):
            wake(self._waiters.pop(pid)[0])
        wake(self._upq)  # requests waiting for a link: they see _running False

    def stats(self):
        """Counters for status reports: connects, reconnects, dropped, downtime (s), faults..."""
        s = dict(self._stats)
        if self._down_since is not None and s["connects"]:
            s["downtime"] += ticks_diff(ticks_ms(), self._down_since) / 1000
        s["queued"] = len(self._outq)
        s["inflight"] = len(self._inflight)
        return s

    def dprint(self, msg, *args):
        if self.DEBUG:
            print(msg % args if args else msg)


def __getattr__(name):
    # Made on first use, so that a connected client never pays for them: `config`, the errors;
    # and submodules, as MicroPython asks here first for `from mqtt_as import tls`. (Tuples
    # written in place, not as module names: at 24 names this dict's table grows from 23 slots
    # to 29, a 464-byte block wanted at the first subscribe(), when subs.py adds its name)
    if name == "config":
        value = dict(_DEFAULTS)
        value["ssl_params"] = {}
    elif name in ("MQTTError", "MQTTRefused", "MQTTSubscribeError"):
        value = getattr(__import__(__name__ + ".errors", None, None, (name,)), name)
    else:
        try:
            return __import__(__name__ + "." + name, None, None, (name,))
        except ImportError as e:
            if name not in str(e):
                raise  # the submodule is there but could not be imported
        raise AttributeError(name)
    globals()[name] = value  # found directly from now on
    return value


__all__ = ("MQTTClient", "MQTTError", "MQTTRefused", "MQTTSubscribeError", "VERSION", "config")
