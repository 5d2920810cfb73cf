"""One broker connection and its upkeep: open, read, ping, write, detect faults, reconnect.

The Link is the base of MQTTClient and knows nothing of its API. It calls four methods the
client provides: _restore(resubscribe) on each new connection, _notify(up) after every connect
and fault, _deliver(topic, msg, retained) for each PUBLISH, _acked(pid) for each PUBACK.
"""

import asyncio

from . import codec
from .errors import MQTTError, MQTTRefused, refused, why

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


_CHUNK = const(512)  # bytes asked of the stream per read (MicroPython)
_SMALL = const(1024)  # payloads up to this size go out in the same write as their header


try:
    from sys import implementation

    _CPYTHON = implementation.name == "cpython"
except ImportError:
    _CPYTHON = False


class Link:
    def __init__(self, c, client_id, will):
        keepalive = c["keepalive"]
        self._will = will
        self._host = c["server"]
        self._ssl = c["ssl"]
        self._ssl_params = c["ssl_params"]
        self._port = c["port"] or (8883 if self._ssl else 1883)
        self._client_id = client_id
        self._user = codec.utf8(c["user"] or b"")
        self._password = codec.utf8(c["password"] or b"")
        self._keepalive = keepalive
        ping = c["ping_interval"] or (keepalive / 4 if keepalive else 20)
        if keepalive:
            ping = min(ping, keepalive)
        self._ping_ms = int(ping * 1000)
        self._resp_s = c["response_time"]
        self._clean = c["clean"]
        self._backoff_cap = c["reconnect_max"]
        self._link = c["link"]
        if self._link is None and c["ssid"]:
            from .wlan import WLAN

            self._link = WLAN(c["ssid"], c["wifi_pw"])
        self._log_cb = c["log"]
        self._lock = asyncio.Lock()  # one packet (write + drain) at a time
        self._upev = asyncio.Event()  # set exactly while connected
        self._wake = asyncio.Event()  # wakes the supervisor after a fault
        self._inflight = {}  # pid -> record of a QoS 1 publish awaiting PUBACK
        self._waiters = {}  # pid -> [event, result] of a SUBSCRIBE or UNSUBSCRIBE
        self._tasks = set()  # every task this client started and has not seen finish
        self._reader = self._writer = self._supervisor = None
        self._conn_tasks = ()
        self._connected = False
        self._running = False  # between connect() and disconnect()/close()
        self._pid = 0
        self._last_rx = self._last_tx = self._ping_at = 0
        self._pinging = False
        self._down_since = None
        self._rbuf = b""  # the start of a packet whose end has not arrived yet
        self._acks_due = []  # packet ids of QoS 1 messages received and not yet acknowledged
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

    async def _open(self, clean, notify=True):
        """Open one connection and restore the session; raise on any failure."""
        if self._link is not None:
            await self._link.up()
        kw = {}
        if self._ssl:
            kw["ssl"] = self._ssl_context()
            kw["server_hostname"] = self._ssl_params.get("server_hostname") or self._host
        if _CPYTHON:
            from .cpython import open_connection  # parses in data_received: one loop turn less
        else:
            open_connection = asyncio.open_connection
        reader, writer = await asyncio.wait_for(
            open_connection(self._host, self._port, **kw), self._resp_s
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
                raise refused(self._host, self._port, ack[3])
        except BaseException:
            _close_writer(writer)
            raise
        self._reader, self._writer = reader, writer
        now = ticks_ms()
        self._last_rx = self._last_tx = now
        self._pinging = False
        self._connected = True
        self._rbuf = b""
        self._acks_due = []
        if _CPYTHON:
            reader.start(self)  # from now on the protocol feeds _feed
            self._conn_tasks = (self._spawn(self._ping_loop()),)
        else:
            self._conn_tasks = (
                self._spawn(self._read_loop(reader)),
                self._spawn(self._ping_loop()),
            )
        await self._restore(clean or not ack[2] & 1)
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

    def _on_up(self):
        s = self._stats
        s["connects"] += 1
        if s["connects"] > 1:
            s["reconnects"] += 1
        if self._down_since is not None:
            s["downtime"] += ticks_diff(ticks_ms(), self._down_since) / 1000
            self._down_since = None
        self._upev.set()
        self._notify(True)

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
            self._notify(False)
            reason = where if e is None else "%s: %s" % (where, why(e))
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
                        "info", "reconnect to %s:%d failed: %s" % (self._host, self._port, why(e))
                    )
                except MemoryError:
                    pass
            attempt += 1
            self._drop_connection()
            self._wake.set()

    async def _read_loop(self, reader):
        """MicroPython: read until the link fails; every failure is a fault, never a silent exit.

        (CPython parses in its protocol's data_received instead: see cpython.py.)
        """
        try:
            # One buffer per connection: read(n) would ask the heap for n contiguous bytes on
            # every call, even for a 4-byte PUBACK
            chunk = bytearray(_CHUNK)
            while True:
                got = await reader.readinto(chunk)
                if not got:
                    raise EOFError("connection closed by the broker")
                self._last_rx = ticks_ms()
                missing = self._feed(chunk[:got])
                if missing > _CHUNK:
                    # A large packet: fetch the rest in one call instead of chunk by chunk
                    rest = await reader.readexactly(missing)
                    self._last_rx = ticks_ms()
                    self._feed(rest)
                while self._acks_due:
                    await self._send(codec.puback(self._acks_due.pop(0)))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # malformed input, EOF, OSError, MemoryError: the link is dead
            self._fault("reader", e)

    def _feed(self, data):
        """Parse what arrived and dispatch every complete packet; return the bytes still missing.

        Raises ValueError for malformed input. PUBACKs owed for QoS 1 messages collect in
        _acks_due for the caller to send.
        """
        buf = self._rbuf + data if self._rbuf else data
        n = len(buf)
        pos = 0
        while n - pos >= 2:
            length = codec.decode_length(buf, pos + 1)
            if length is None:
                break
            size, start = length
            end = start + size
            if end > n:
                self._rbuf = buf[pos:]
                return end - n
            self._dispatch(buf[pos], buf[start:end])
            pos = end
        self._rbuf = buf[pos:] if pos < n else b""
        return 0

    def _dispatch(self, first, body):
        kind = first & 0xF0
        if kind == codec.PUBLISH:
            topic, msg, qos, retained, pid = codec.parse_publish(first, body)
            self._deliver(topic, msg, retained)  # the client's: callbacks or queue
            if qos:
                self._acks_due.append(pid)
        elif first == codec.PUBACK:
            if not self._acked(codec.packet_id(body)):
                self._stats["stray_acks"] += 1  # a late ack for a re-sent message: harmless
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

    def _next_pid(self):
        pid = self._pid
        while True:
            pid = pid % 65535 + 1
            if pid not in self._inflight and pid not in self._waiters:
                self._pid = pid
                return pid

    def _spawn(self, coro):
        # Finished tasks are pruned here rather than by a wrapper coroutine: one frame less each
        tasks = self._tasks
        for task in [t for t in tasks if t.done()]:
            tasks.discard(task)
        task = asyncio.create_task(coro)
        tasks.add(task)
        return task

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


def _rand8():
    try:
        from random import getrandbits

        return getrandbits(8)
    except ImportError:
        return ticks_ms() & 0xFF
