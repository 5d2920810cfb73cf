"""Resilient asyncio MQTT 3.1.1 client for MicroPython and CPython, with an mqtt_as-style API.

    from mqtt_as import MQTTClient, config
    config.update(server="192.168.0.10", subs_cb=callback)
    client = MQTTClient(config)
    await client.connect()          # raises MQTTError once; later outages are handled inside
    await client.subscribe("home/+/temp", qos=1)
    await client.publish("home/node/state", "ON", retain=True, qos=1)

Reads are event driven (asyncio streams, no polling); a link that stops answering is declared
dead within ping_interval + response_time; the client then reconnects with capped, jittered
backoff, re-subscribes, re-sends unacknowledged QoS 1 messages (same id, DUP set) and flushes the
publishes that waited in its bounded offline queue. See docs/mqtt_as.md.
"""

import asyncio

from . import codec
from .topic import check_filter, check_topic, matches

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


VERSION = (1, 0, 0)


class MQTTError(OSError):
    """Root of every error the client raises; an OSError, as mqtt_as raised."""


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

# mqtt_as keys that have no meaning here; accepted so that an mqtt_as config dict works as is
_IGNORED = ("max_repubs", "gateway", "mqttv5_con_props")

config = {
    "server": None,
    "port": 0,  # 0: 1883, or 8883 with ssl
    "client_id": None,  # None: derived from machine.unique_id() or random
    "user": "",
    "password": "",
    "keepalive": 60,  # seconds, sent to the broker
    "ping_interval": 0,  # seconds of silence before a PINGREQ; 0: keepalive / 4
    "response_time": 10,  # seconds to wait for CONNACK, SUBACK, PINGRESP
    "clean_init": True,  # clean session on the first connect
    "clean": True,  # clean session on reconnects
    "will": None,  # (topic, msg, retain, qos)
    "subs_cb": None,  # subs_cb(topic: bytes, msg: bytes, retained: bool), sync or async
    "wifi_coro": None,  # called with False on every outage, True after every connect
    "connect_coro": None,  # called with the client after every connect
    "ssl": False,  # True, or an ssl.SSLContext
    "ssl_params": {},  # ca_certs, cadata, certfile, keyfile, server_hostname, cert_reqs
    "queue_len": 0,  # > 0: incoming messages go to client.queue (async iterator) instead
    "out_queue_len": 20,  # publishes held while offline; see docs for the overflow policy
    "reconnect_max": 0.5,  # seconds, cap of the reconnect backoff (30 s after a refusal)
    "link": None,  # object with async up() and isconnected(): Wi-Fi and the like
    "ssid": None,  # with no link: join this Wi-Fi network first (boards only, see wlan.py)
    "wifi_pw": None,
    "log": None,  # log(level: str, msg: str); None prints warnings and errors
    "mqttv5": False,  # not supported; True raises ValueError
}

# indices of a message record: [topic, msg, qos, retain, event, result, pid, header, seq]
_TOPIC = const(0)
_MSG = const(1)
_QOS = const(2)
_RETAIN = const(3)
_EVENT = const(4)
_RESULT = const(5)
_PID = const(6)
_HDR = const(7)
_SEQ = const(8)

_CHUNK = const(512)  # bytes asked of the stream per read
_SMALL = const(1024)  # payloads up to this size go out in the same write as their header


class MQTTClient:
    DEBUG = False

    def __init__(self, cfg):
        c = dict(config)
        for key in cfg:
            if key not in config and key not in _IGNORED:
                raise ValueError("unknown mqtt_as config key %r" % (key,))
        c.update(cfg)
        if c["mqttv5"]:
            raise ValueError("MQTT v5 is not supported by this client; use MQTT 3.1.1")
        if not c["server"]:
            raise ValueError("config['server'] must name the broker")
        keepalive = c["keepalive"]
        if not 0 <= keepalive < 65536:
            raise ValueError("keepalive must be 0 to 65535 s, got %r" % (keepalive,))
        will = c["will"]
        if will:
            if len(will) != 4 or will[3] not in (0, 1):
                raise ValueError("will must be (topic, msg, retain, qos) with qos 0 or 1")
            will = (check_topic(will[0]), codec.utf8(will[1]), will[2], will[3])
        self._will = will
        self._host = c["server"]
        self._ssl = c["ssl"]
        self._ssl_params = c["ssl_params"]
        self._port = c["port"] or (8883 if self._ssl else 1883)
        self._client_id = codec.utf8(c["client_id"] or _default_client_id())
        self._user = codec.utf8(c["user"] or b"")
        self._password = codec.utf8(c["password"] or b"")
        self._keepalive = keepalive
        ping = c["ping_interval"] or (keepalive / 4 if keepalive else 20)
        if keepalive:
            ping = min(ping, keepalive)
        self._ping_ms = int(ping * 1000)
        self._resp_s = c["response_time"]
        self._clean_init = c["clean_init"]
        self._clean = c["clean"]
        self._subs_cb = c["subs_cb"]
        self._wifi_coro = c["wifi_coro"]
        self._connect_coro = c["connect_coro"]
        self._out_len = c["out_queue_len"]
        self._backoff_cap = c["reconnect_max"]
        self._link = c["link"]
        if self._link is None and c["ssid"]:
            from .wlan import WLAN

            self._link = WLAN(c["ssid"], c["wifi_pw"])
        self._log_cb = c["log"]
        self.queue = self.up = self.down = None
        if c["queue_len"] > 0:  # the event interface of mqtt_as
            from .events import MsgQueue

            self.queue = MsgQueue(c["queue_len"])
            self.up = asyncio.Event()  # set on every connect; the application clears it
            self.down = asyncio.Event()  # set on every outage; the application clears it
        self._lock = asyncio.Lock()  # one packet (write + drain) at a time
        self._upev = asyncio.Event()  # set exactly while connected
        self._wake = asyncio.Event()  # wakes the supervisor after a fault
        self._subs = {}  # filter bytes -> [qos, callback or None]
        self._inflight = {}  # pid -> record of a QoS 1 publish awaiting PUBACK
        self._waiters = {}  # pid -> [event, result] of a SUBSCRIBE or UNSUBSCRIBE
        self._outq = []  # records waiting for the link
        self._tasks = set()  # every task this client started and has not seen finish
        self._reader = self._writer = self._supervisor = None
        self._conn_tasks = ()
        self._connected = False
        self._running = False  # between connect() and disconnect()/close()
        self._pid = 0
        self._seq = 0
        self._last_rx = self._last_tx = self._ping_at = 0
        self._pinging = False
        self._down_since = None
        self._stats = {
            "connects": 0,
            "reconnects": 0,
            "dropped": 0,
            "downtime": 0.0,
            "faults": 0,
            "last_fault": "",
            "stray_acks": 0,
            "callback_errors": 0,
        }

    # ----------------------------------------------------------------- public API

    async def connect(self, quick=False):
        """Connect once; raise MQTTError (MQTTRefused for a CONNACK refusal) on failure.

        After success the client keeps the connection by itself until disconnect() or close().
        `quick` is accepted for mqtt_as compatibility; there is no Wi-Fi stability wait here.
        """
        if self._running:
            raise MQTTError("connect() called twice; the client reconnects by itself")
        self._running = True
        self._wake.clear()
        try:
            if self._clean_init and not self._clean:
                # Start from an empty session, then keep the session across later outages
                await self._open(True, False)
                await self._close_session()
            await self._open(self._clean_init)
        except Exception as e:
            self._running = False
            self._drop_connection()
            if isinstance(e, MQTTError):
                raise
            msg = "cannot connect to %s:%d: %s" % (self._host, self._port, _why(e))
            raise MQTTError(msg) from None
        self._supervisor = self._spawn(self._keep_connected())

    async def publish(self, topic, msg, retain=False, qos=0):
        """Publish; return True once written (QoS 0) or acknowledged (QoS 1).

        While the link is down the message waits in the offline queue; the call returns False
        if the queue had to drop it (see docs/mqtt_as.md, "offline queue").
        """
        t = check_topic(topic)
        if qos not in (0, 1):
            raise ValueError("qos must be 0 or 1, got %r" % (qos,))
        m = msg.encode() if isinstance(msg, str) else msg
        if isinstance(m, memoryview):
            m = bytes(m)
        if self._upev.is_set() and not self._outq:
            if qos == 0:
                try:
                    await self._send(codec.publish_header(t, len(m), 0, retain), m)
                    return True
                except OSError:
                    pass  # the link died under us: the message waits for the next one
            else:
                rec = self._record(t, m, qos, retain)
                await self._emit(rec)
                return await self._await_record(rec)
        rec = self._record(t, m, qos, retain)
        self._enqueue(rec)
        return await self._await_record(rec)

    async def subscribe(self, topic, qos=0, cb=None):
        """Subscribe and wait for the SUBACK; return the granted QoS.

        cb(topic, msg, retained), sync or async, receives the messages matching this filter in
        addition to subs_cb. Raises MQTTSubscribeError if the broker refuses the filter.
        """
        f = check_filter(topic)
        if qos not in (0, 1):
            raise ValueError("qos must be 0 or 1, got %r" % (qos,))
        while True:
            await self._wait_up()
            self._subs[f] = [qos, cb]  # from here on, every reconnect re-subscribes it
            codes = await self._request(lambda pid: codec.subscribe(pid, ((f, qos),)))
            if codes is None:
                continue  # link lost before the SUBACK: try again once reconnected
            if codes[0] & 0x80:
                self._subs.pop(f, None)
                raise MQTTSubscribeError("broker refused the subscription to %r" % (topic,))
            return codes[0]

    async def unsubscribe(self, topic):
        """Unsubscribe and wait for the UNSUBACK. Not being subscribed is not an error."""
        f = check_filter(topic)
        self._subs.pop(f, None)
        while True:
            await self._wait_up()
            if await self._request(lambda pid: codec.unsubscribe(pid, (f,))) is not None:
                return

    def isconnected(self):
        return self._connected

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
                await asyncio.wait_for(self._send(codec.DISCONNECT_PACKET), self._resp_s)
            except Exception as e:  # the broker is gone anyway; closing is all that is left
                self._log("debug", "DISCONNECT not sent: %s" % _why(e))
        self._drop_connection()
        self._release_waiters()

    def close(self):
        """Close the socket and cancel every task the client started; no DISCONNECT is sent."""
        self._running = False
        self._drop_connection()
        for task in list(self._tasks):
            self._cancel(task)
        self._release_waiters()
        for rec in self._outq + list(self._inflight.values()):
            rec[_RESULT] = False
            rec[_EVENT].set()
        self._outq = []
        self._inflight = {}

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

    # ----------------------------------------------------------------- connection

    async def _open(self, clean, notify=True):
        """Open one connection and restore the session; raise on any failure."""
        if self._link is not None:
            await self._link.up()
        kw = {}
        if self._ssl:
            kw["ssl"] = self._ssl_context()
            kw["server_hostname"] = self._ssl_params.get("server_hostname") or self._host
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self._host, self._port, **kw), self._resp_s
        )
        try:
            sock = getattr(writer, "s", None)  # MicroPython's stream; CPython sets NODELAY itself
            if sock is not None and not self._ssl:
                try:
                    sock.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY: no 40 ms ack stalls
                except (OSError, AttributeError):
                    pass  # a port without the option still works, only slower
            packet = codec.connect(
                self._client_id,
                self._keepalive,
                clean,
                self._user,
                self._password,
                self._will,
            )
            writer.write(packet)
            await asyncio.wait_for(writer.drain(), self._resp_s)
            ack = await asyncio.wait_for(reader.readexactly(4), self._resp_s)
            if ack[0] != codec.CONNACK or ack[1] != 2:
                raise MQTTError("broker sent 0x%02x 0x%02x instead of CONNACK" % (ack[0], ack[1]))
            if ack[3]:
                rc = ack[3]
                e = MQTTRefused(
                    "broker %s:%d refused the connection: %s (code %d)"
                    % (self._host, self._port, _REFUSALS[rc] if rc < 6 else "unknown", rc)
                )
                e.code = rc
                raise e
        except BaseException:
            _close_writer(writer)
            raise
        self._reader, self._writer = reader, writer
        now = ticks_ms()
        self._last_rx = self._last_tx = now
        self._pinging = False
        self._connected = True
        self._conn_tasks = (self._spawn(self._read_loop(reader)), self._spawn(self._ping_loop()))
        if clean or not ack[2] & 1:
            await self._resubscribe()
        await self._resend()
        while self._outq and self._connected:
            await self._emit(self._outq.pop(0))
        if not self._connected:
            raise MQTTError("link lost while restoring the session")
        if notify:
            self._on_up()

    async def _close_session(self):
        self._stop_io()
        try:
            await self._send(codec.DISCONNECT_PACKET)
        finally:
            self._drop_connection()

    def _ssl_context(self):
        if not isinstance(self._ssl, bool):
            return self._ssl  # an SSLContext made by the application
        from .tls import context

        self._ssl = context(self._ssl_params)  # made once, reused on every reconnect
        return self._ssl

    async def _resubscribe(self):
        if not self._subs:
            return
        topics = [(f, sub[0]) for f, sub in self._subs.items()]
        codes = await self._request(lambda pid: codec.subscribe(pid, topics))
        if codes is None:
            raise MQTTError("no SUBACK while re-subscribing")
        for (f, _), code in zip(topics, codes):
            if code & 0x80:
                self._log("error", "broker refused the re-subscription to %r" % (f,))

    async def _resend(self):
        # Unacknowledged QoS 1 messages go again with their ids and DUP set (MQTT 3.1.1 §4.4)
        for rec in sorted(self._inflight.values(), key=lambda r: r[_SEQ]):
            rec[_HDR][0] |= 0x08
            await self._send(rec[_HDR], rec[_MSG])

    def _on_up(self):
        s = self._stats
        s["connects"] += 1
        if s["connects"] > 1:
            s["reconnects"] += 1
        if self._down_since is not None:
            s["downtime"] += ticks_diff(ticks_ms(), self._down_since) / 1000
            self._down_since = None
        self._upev.set()
        if self.up is not None:
            self.up.set()
        if self._wifi_coro:
            self._call(self._wifi_coro, True)
        if self._connect_coro:
            self._call(self._connect_coro, self)

    def _fault(self, where, e=None):
        """The link is dead: tear it down once and wake the supervisor to reconnect.

        State first, words after: when RAM is short, formatting the reason may itself raise
        MemoryError, and that must not leave a client that thinks it is connected.
        """
        if not self._connected:
            return
        # These four steps allocate nothing, so they happen even when the heap is exhausted;
        # the supervisor finishes the teardown if the rest fails
        self._down_since = ticks_ms()
        self._connected = False
        self._upev.clear()
        self._wake.set()
        try:
            self._drop_connection()
            self._stats["faults"] += 1
            self._stats["last_fault"] = where
            if self.down is not None:
                self.down.set()
            if self._wifi_coro:
                self._call(self._wifi_coro, False)
            reason = where if e is None else "%s: %s" % (where, _why(e))
            self._stats["last_fault"] = reason
            self._log("warning", "link to %s:%d lost: %s" % (self._host, self._port, reason))
        except MemoryError:
            pass

    def _stop_io(self):
        for task in self._conn_tasks:
            self._cancel(task)
        self._conn_tasks = ()

    def _drop_connection(self):
        if self._connected:
            self._down_since = ticks_ms()
        self._connected = False
        self._upev.clear()
        self._stop_io()
        if self._writer is not None:
            _close_writer(self._writer)
        self._reader = self._writer = None
        # SUBACK/UNSUBACK waiters retry after the reconnect; QoS 1 records stay in flight
        for pid in list(self._waiters):
            w = self._waiters.pop(pid)
            w[0].set()

    async def _keep_connected(self):
        """Supervisor: reconnect with capped exponential backoff and jitter after each fault."""
        attempt = 0  # failed tries since the last connection that lasted
        cap = self._backoff_cap
        up_at = ticks_ms()
        while self._running:
            await self._wake.wait()
            self._wake.clear()
            if not self._running:
                return
            if up_at is not None:  # a connection just died
                if ticks_diff(ticks_ms(), up_at) >= 10000:
                    attempt = 0  # it lasted: try again at once, the broker may be back
                else:
                    attempt += 1  # it died young (a flapping link, short RAM): no storm
                up_at = None
            if attempt:
                delay = min(cap, 0.05 * 2 ** min(attempt, 12))
                await asyncio.sleep(delay * (128 + _rand8() // 2) / 255)
            try:
                self._drop_connection()  # finish a teardown that ran out of memory half-way
                await self._open(self._clean)
                up_at = ticks_ms()
                cap = self._backoff_cap
                continue
            except MQTTRefused as e:
                self._log("error", str(e))
                # A refusal will not heal in a second: wait 3 to 6 s, then up to 30 s
                cap = max(30.0, self._backoff_cap)
                attempt = max(attempt, 6)
            except Exception as e:  # OSError, timeouts, MemoryError: all mean "try again"
                try:
                    self._log(
                        "info", "reconnect to %s:%d failed: %s" % (self._host, self._port, _why(e))
                    )
                except MemoryError:
                    pass
            attempt += 1
            self._drop_connection()
            self._wake.set()

    # ----------------------------------------------------------------- I/O tasks

    async def _read_loop(self, reader):
        """Read packets until the link fails; every failure is a fault, never a silent exit."""
        buf = b""
        try:
            # MicroPython's stream reads into one buffer made per connection; read(n) would
            # ask the heap for n contiguous bytes on every call, even for a 4-byte PUBACK
            into = getattr(reader, "readinto", None)
            chunk = bytearray(_CHUNK) if into else None
            while True:
                if into:
                    got = await into(chunk)
                    data = chunk[:got] if got else b""
                else:
                    data = await reader.read(_CHUNK)
                if not data:
                    raise EOFError("connection closed by the broker")
                self._last_rx = ticks_ms()
                buf = buf + data if buf else data
                n = len(buf)
                pos = 0
                while n - pos >= 2:
                    length = codec.decode_length(buf, pos + 1)
                    if length is None:
                        break
                    size, start = length
                    end = start + size
                    if end > n:
                        if size <= _CHUNK:
                            break  # the rest arrives with the next read
                        # A large packet: fetch the rest in one call instead of chunk by chunk
                        rest = await reader.readexactly(end - n)
                        self._last_rx = ticks_ms()
                        await self._dispatch(buf[pos], buf[start:] + rest)
                        pos = n
                        break
                    await self._dispatch(buf[pos], buf[start:end])
                    pos = end
                buf = buf[pos:] if pos < n else b""
        except asyncio.CancelledError:
            raise
        except Exception as e:  # malformed input, EOF, OSError, MemoryError: the link is dead
            self._fault("reader", e)

    async def _dispatch(self, first, body):
        kind = first & 0xF0
        if kind == codec.PUBLISH:
            topic, msg, qos, retained, pid = codec.parse_publish(first, body)
            self._deliver(topic, msg, retained)
            if qos:
                await self._send(codec.puback(pid))
        elif first == codec.PUBACK:
            rec = self._inflight.pop(codec.packet_id(body), None)
            if rec is None:
                self._stats["stray_acks"] += 1  # a late ack for a re-sent message: harmless
            else:
                rec[_RESULT] = True
                rec[_EVENT].set()
        elif first == codec.SUBACK or first == codec.UNSUBACK:
            if len(body) < 2 or (first == codec.UNSUBACK and len(body) != 2):
                raise ValueError("ack of %d bytes" % len(body))
            w = self._waiters.pop(body[0] << 8 | body[1], None)
            if w is None:
                self._stats["stray_acks"] += 1
            else:
                w[1] = bytes(body[2:]) if first == codec.SUBACK else b"\x00"
                w[0].set()
        elif first == codec.PINGRESP and not body:
            self._pinging = False
        else:
            raise ValueError("unexpected packet 0x%02x of %d bytes" % (first, len(body)))

    def _deliver(self, topic, msg, retained):
        for f, sub in list(self._subs.items()):
            if sub[1] is not None and matches(f, topic):
                self._call(sub[1], topic, msg, retained)
        if self.queue is not None:
            self.queue.put((topic, msg, retained))
        elif self._subs_cb is not None:
            self._call(self._subs_cb, topic, msg, retained)

    async def _ping_loop(self):
        """Ping when the link has been quiet; no answer within response_time is a dead link."""
        ping_ms = self._ping_ms
        resp_ms = int(self._resp_s * 1000)
        tick = max(20, min(ping_ms, resp_ms) // 4) / 1000
        try:
            while True:
                await asyncio.sleep(tick)
                now = ticks_ms()
                if self._link is not None and not self._link.isconnected():
                    self._fault("network link down")
                    return
                if self._pinging:
                    if ticks_diff(self._last_rx, self._ping_at) >= 0:
                        self._pinging = False  # anything received proves the link alive
                    elif ticks_diff(now, self._ping_at) > resp_ms:
                        self._fault("no answer within %d ms of PINGREQ" % resp_ms)
                        return
                elif (
                    ticks_diff(now, self._last_rx) >= ping_ms
                    or ticks_diff(now, self._last_tx) >= ping_ms
                ):
                    self._pinging = True
                    self._ping_at = now
                    if not self._lock.locked():
                        # A plain write never waits; a stuck writer must not stall the watchdog
                        self._writer.write(codec.PINGREQ_PACKET)
                        self._last_tx = now
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self._fault("keepalive", e)

    async def _send(self, data, payload=None):
        """Write one packet; raise OSError (after recording the fault) if the link fails."""
        if payload is not None and len(payload) <= _SMALL:
            data = data + payload  # one write, one TCP segment
            payload = None
        async with self._lock:
            writer = self._writer
            if writer is None:
                raise OSError("not connected")
            try:
                writer.write(data)
                if payload is not None:
                    writer.write(payload)
                await writer.drain()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self._fault("writer", e)
                raise OSError("link lost while writing") from None
            self._last_tx = ticks_ms()

    async def _wait_up(self):
        if not self._running:
            raise MQTTError("not connected: call connect() first")
        await self._upev.wait()
        if not self._running:
            raise MQTTError("client closed")

    async def _request(self, make):
        """Send a SUBSCRIBE/UNSUBSCRIBE and return the ack's codes, or None if the link failed."""
        pid = self._next_pid()
        waiter = [asyncio.Event(), None]
        self._waiters[pid] = waiter
        try:
            await self._send(make(pid))
            await asyncio.wait_for(waiter[0].wait(), self._resp_s)
        except OSError:
            return None
        except asyncio.TimeoutError:
            self._fault("no SUBACK/UNSUBACK within %s s" % self._resp_s)
            return None
        finally:
            self._waiters.pop(pid, None)
        if waiter[1] is None and not self._running:
            raise MQTTError("client closed")
        return waiter[1]

    # ----------------------------------------------------------------- publishing

    def _record(self, topic, msg, qos, retain):
        self._seq += 1
        return [topic, msg, qos, retain, asyncio.Event(), None, 0, None, self._seq]

    async def _emit(self, rec):
        """Send a record now (the link is up); a QoS 1 record stays in flight until PUBACK."""
        qos = rec[_QOS]
        if qos:
            pid = self._next_pid()
            rec[_PID] = pid
            rec[_HDR] = codec.publish_header(rec[_TOPIC], len(rec[_MSG]), 1, rec[_RETAIN], pid)
            self._inflight[pid] = rec
        else:
            rec[_HDR] = codec.publish_header(rec[_TOPIC], len(rec[_MSG]), 0, rec[_RETAIN])
        try:
            await self._send(rec[_HDR], rec[_MSG])
        except OSError:
            if not qos:
                self._outq.insert(0, rec)  # not sent: first in line for the next link
            return  # QoS 1 is re-sent from _inflight after the reconnect
        if not qos:
            rec[_RESULT] = True
            rec[_EVENT].set()

    def _enqueue(self, rec):
        q = self._outq
        if len(q) >= self._out_len:
            # Full: a queued message on the same topic is superseded by the new one (state
            # keeps its latest value); otherwise the oldest message goes.
            victim = 0
            for i, old in enumerate(q):
                if old[_TOPIC] == rec[_TOPIC]:
                    victim = i
                    break
            old = q.pop(victim)
            old[_RESULT] = False
            old[_EVENT].set()
            self._stats["dropped"] += 1
        q.append(rec)
        if self._upev.is_set() and len(q) == 1:
            # Connected but another publish was queued first: a flusher keeps the order
            self._spawn(self._flush())

    async def _flush(self):
        while self._outq and self._upev.is_set():
            await self._emit(self._outq.pop(0))

    async def _await_record(self, rec):
        try:
            await rec[_EVENT].wait()
        except asyncio.CancelledError:
            if rec in self._outq:
                self._outq.remove(rec)  # never sent: forget it; in flight: it still goes
            raise
        return rec[_RESULT]

    def _next_pid(self):
        pid = self._pid
        while True:
            pid = pid % 65535 + 1
            if pid not in self._inflight and pid not in self._waiters:
                self._pid = pid
                return pid

    # ----------------------------------------------------------------- helpers

    def _spawn(self, coro):
        # Finished tasks are pruned here rather than by a wrapper coroutine: one frame less each
        tasks = self._tasks
        for task in [t for t in tasks if t.done()]:
            tasks.discard(task)
        task = asyncio.create_task(coro)
        tasks.add(task)
        return task

    def _call(self, cb, *args):
        try:
            r = cb(*args)
            if r is not None and hasattr(r, "send"):
                self._spawn(self._guard(r))
        except Exception as e:  # a broken callback must not take the reader down
            self._callback_failed(e)

    async def _guard(self, coro):
        try:
            await coro
        except Exception as e:
            self._callback_failed(e)

    def _callback_failed(self, e):
        self._stats["callback_errors"] += 1
        try:
            self._log("error", "callback raised %s" % _why(e))
        except MemoryError:
            pass

    def _cancel(self, task):
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()

    def _release_waiters(self):
        for pid in list(self._waiters):
            self._waiters.pop(pid)[0].set()
        self._upev.set()  # wake requests waiting for a link; they see _running False
        self._upev.clear()

    def _log(self, level, msg):
        # Logging never raises: not for a broken log callback, not for a MemoryError
        try:
            if self._log_cb is not None:
                self._log_cb(level, msg)
            elif self.DEBUG or level in ("warning", "error"):
                print("mqtt_as", level + ":", msg)
        except Exception:
            pass


def _close_writer(writer):
    try:
        writer.close()
    except Exception:  # already closed or half-open: nothing more to do
        pass


def _why(e):
    text = str(e)
    return "%s: %s" % (type(e).__name__, text) if text else type(e).__name__


def _rand8():
    try:
        from random import getrandbits

        return getrandbits(8)
    except ImportError:
        return ticks_ms() & 0xFF


def _default_client_id():
    try:
        from binascii import hexlify

        from machine import unique_id

        return hexlify(unique_id())
    except ImportError:
        return "mqtt_as_%08x" % ((_rand8() << 24) ^ ticks_ms())
