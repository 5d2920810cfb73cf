"""One broker connection and its upkeep: open, close for real, detect faults, reconnect, log.
Between Wire (bytes, watchdog) and Session, whose _restore(resubscribe), _notify(up),
_lost_inflight() and _log(level, msg) it calls."""

import asyncio

from . import codec
from .codec import CPYTHON, const, rand8, ticks_diff, ticks_ms
from .wire import Wire, waitq, wake

_CONNACK = const(0x20)
_RESOLVE_AFTER = const(3)  # failed attempts before the broker's name is looked up again


class Link(Wire):
    _max_in = 0  # max_incoming, 0: no limit (set on the instance otherwise)

    def __init__(self, c, client_id, will):
        keepalive = c["keepalive"]
        self._host = c["server"]
        ssl = c["ssl"]
        params = c["ssl_params"] or {}
        if ssl is True:  # configuration errors raise here, not as "unreachable" later
            from .tls import context

            ssl = context(params)
        # TLS: (context, the name the certificate must show); None: plain TCP
        name = params.get("server_hostname") or self._host
        tls = (ssl, name) if ssl else None
        self._port = c["port"] or (8883 if ssl else 1883)
        # What every CONNECT says but the clean flag, and the TLS context: one tuple
        user, password = codec.utf8(c["user"] or b""), codec.utf8(c["password"] or b"")
        self._hello = (client_id, keepalive, user, password, will, tls)
        ping = c["ping_interval"] or (keepalive / 4 if keepalive else 20)
        if keepalive:
            ping = min(ping, keepalive)
        self._ping_ms = int(ping * 1000)
        self._resp_s = c["response_time"]
        # Options read now and then, one tuple (an instance's attributes share one hash table:
        # 47 fill 752 bytes, 48 to 59 take 944): 0 cap of the reconnect backoff, 1 between the
        # outage log lines (ms), 2 clean (reconnects), 3 clean_init, 4 wifi_coro, 5 connect_coro, 6
        # out_queue_len, 7 oom_cb. Options left at their default are class attributes (_max_in...)
        o = int(c["reconnect_max"] * 1000), int(c["outage_summary"] * 1000), c["clean"]
        o += c["clean_init"], c["wifi_coro"], c["connect_coro"]
        self._opts = o + (max(0, c["out_queue_len"]), c["oom_cb"])
        if c["max_incoming"]:
            self._max_in = c["max_incoming"]
        self._link = c["link"]
        if self._link is None and c["ssid"]:
            from .wlan import WLAN

            self._link = WLAN(c["ssid"], c["wifi_pw"])
        self._log_cb = c["log"]
        self._busy = False  # a packet is being written (see Wire._send: one at a time)
        self._lockq = []  # events of the writers waiting for their turn, first first
        self._upq = waitq()  # requests waiting for the link (_connected 2) park here
        self._napping = False  # the supervisor sleeps between watchdog ticks: _fault wakes it
        self._slotq = []  # QoS 1 records waiting for a slot in flight, first first
        self._inflight = {}  # pid -> record of a QoS 1 publish awaiting PUBACK
        self._waiters = {}  # pid -> [event, result, sent] of a SUBSCRIBE or UNSUBSCRIBE
        self._tasks = set()  # every task this client started and has not seen finish
        self._writer = self._supervisor = self._writing = None
        self._addr = None  # MicroPython: the broker's address, looked up once
        self._conn_tasks = ()  # of this connection: the reader (MicroPython), the watchdog
        # connected: False, True (restoring the session), 2 (up: restored and reported)
        self._connected = self._running = False  # running: from connect() to disconnect()
        self._pid = self._last_rx = self._last_tx = self._tx_at = 0
        self._ping_at = self._down_since = None  # ping_at: of a PINGREQ awaiting its PINGRESP
        self._ping_due = False
        self._view = None  # MicroPython: the reader's buffer, made by _reset_parser
        self._reset_parser()
        self._stats = {
            "connects": 0,
            "reconnects": 0,
            "dropped": 0,
            "downtime": 0.0,
            "faults": 0,
            "last_fault": "",
            "stray_acks": 0,
            "callback_errors": 0,
            "discarded": 0,
        }

    async def _open(self, clean, notify=True):
        """Open one connection and restore the session; raise on any failure."""
        if self._link is not None:
            await self._link.up()
        if CPYTHON:
            from .cpython import open_connection  # parses in data_received: one loop turn less
        else:
            from .mpsock import open_connection  # closes for real, resolves the name once
        reader, writer = await open_connection(self)  # a new TCP (TLS) connection
        try:
            client_id, keepalive, user, password, will, _ = self._hello
            writer.write(codec.connect(client_id, keepalive, clean, user, password, will))
            await self._within(writer.drain())
            ack = await self._within(reader.readexactly(4))
            if ack[0] != _CONNACK or ack[1] != 2 or ack[3]:
                from .errors import MQTTError, refused

                if ack[0] == _CONNACK and ack[1] == 2:
                    raise refused(self._host, self._port, ack[3])
                raise MQTTError("broker sent 0x%02x 0x%02x instead of CONNACK" % (ack[0], ack[1]))
        except BaseException:
            _close_writer(writer)
            raise
        self._writer = writer  # the same object as reader, on both runtimes
        self._last_rx = self._last_tx = self._tx_at = ticks_ms()
        self._ping_at = None
        self._ping_due = False
        self._connected = True
        self._reset_parser()
        if CPYTHON:
            reader.start(self)  # from now on the protocol feeds _feed
            self._conn_tasks = (self._spawn(self._ping_loop()),)
        else:
            task = self._spawn(self._read_loop(reader))
            self._conn_tasks = (task, self._spawn(self._ping_loop()))
        await self._restore(clean or not ack[2] & 1)
        self._cancel(self._conn_tasks[-1])  # the supervisor watches from now on
        self._conn_tasks = self._conn_tasks[:-1]
        if not self._connected:
            from .errors import MQTTError

            raise MQTTError("link lost while restoring the session")
        if not notify:
            return
        s = self._stats
        s["connects"] += 1
        where = "%s:%d" % (self._host, self._port)
        if s["connects"] > 1:
            s["reconnects"] += 1
        if self._down_since is not None:
            away = ticks_diff(ticks_ms(), self._down_since) / 1000
            s["downtime"] += away
            self._down_since = None
            self._log("info", "connected to %s, back after %.1f s" % (where, away))
        else:
            self._log("info", "connected to %s" % where)
        self._connected = 2
        wake(self._upq)
        self._notify(True)

    def _fault(self, where, e=None):
        """The link is dead: tear it down once and wake the supervisor to reconnect. State first,
        words after: formatting the reason may raise MemoryError; the state must not lie then."""
        if not self._connected:
            return
        # No allocation up to `try`, so even with no heap left the supervisor reconnects
        self._down_since = ticks_ms()
        self._connected = False
        if self._napping:  # wake the supervisor: it reconnects at once
            self._napping = False
            self._supervisor.cancel()
        try:
            self._drop_connection()
            self._stats["faults"] += 1
            self._stats["last_fault"] = where
            self._lost_inflight()
            self._notify(False)
            if e is not None:
                from .errors import why

                where = "%s: %s" % (where, why(e))
            self._stats["last_fault"] = where
            self._log("warning", "link to %s:%d lost: %s" % (self._host, self._port, where))
        except MemoryError:
            pass

    def _stop_io(self):
        for task in self._conn_tasks:
            self._cancel(task)
        self._conn_tasks = ()

    def _drop_connection(self):
        """Close the connection for real and wake everything that waits on it."""
        if self._connected:
            self._down_since = ticks_ms()
        self._connected = False
        self._stop_io()
        task, self._writing = self._writing, None
        if not CPYTHON and task is not None and task is not asyncio.current_task():
            task.cancel()  # a writer blocked in drain; CPython's abort wakes it instead
        if self._writer is not None:
            _close_writer(self._writer)
        self._writer = None
        # SUBACK/UNSUBACK waiters retry after the reconnect; QoS 1 records stay in flight, and
        # publishers waiting for a slot keep waiting: the re-sends take the slots first
        for pid in self._waiters:  # no list: short of heap, a teardown still wakes them
            wake(self._waiters[pid][0])
        self._waiters.clear()

    async def _keep_connected(self):  # the supervisor: the watchdog, then reconnects (fault)
        queued = 0  # CPython: the transport's unsent bytes at the last tick
        attempt = 0  # failed tries since the last connection that lasted
        cap = self._opts[0]
        up_at = ticks_ms()
        fails = starved = 0  # starved: failed attempts in a row that ended in MemoryError
        said, reason = None, ""  # when the last summary line was logged, and why
        while self._running:
            try:  # in the try, as all: a MemoryError must not end this task (ms: no float made)
                resp_ms = int(self._resp_s * 1000)
                tick = max(20, min(self._ping_ms, resp_ms) // 4)
                if self._connected:
                    self._napping = True
                    try:
                        await (asyncio.sleep(tick / 1000) if CPYTHON else asyncio.sleep_ms(tick))
                    except asyncio.CancelledError:
                        # _fault clears _napping to wake us, other cancels are real (uncancel():
                        # CPython >= 3.11 counts them; it takes ours back, says how many remain)
                        task = asyncio.current_task()
                        if self._napping or not self._running or getattr(task, "uncancel", int)():
                            self._napping = False
                            raise
                    self._napping = False
                    if self._connected:
                        queued = self._watch(ticks_ms(), resp_ms, queued)
                    continue
                if up_at is not None:  # a connection just died
                    if ticks_diff(ticks_ms(), up_at) >= 10000:
                        attempt = 0  # it lasted: try again at once, the broker may be back
                    else:
                        attempt += 1  # it died young (a flapping link, short RAM): no storm
                    up_at = None
                    fails = starved = 0
                    reason = ""
                    said = ticks_ms()
                if attempt:
                    delay = min(cap, 50 << min(attempt, 12)) * (128 + rand8() // 2) // 255  # ms
                    await (asyncio.sleep(delay / 1000) if CPYTHON else asyncio.sleep_ms(delay))
                try:
                    self._drop_connection()  # finish a teardown that ran out of memory half-way
                    await self._open(self._opts[2])  # clean
                    up_at = ticks_ms()
                    cap = self._opts[0]
                    queued = 0
                    continue
                except Exception as e:  # refusals, OSError, timeouts, MemoryError: "try again"
                    starved = starved + 1 if isinstance(e, MemoryError) else 0  # no allocation
                    try:  # errors.py is imported on the first failure: an idle client needs none
                        if starved and self._opts[7]:  # the application may reset (SystemExit)
                            self._opts[7](starved)
                        from .errors import MQTTRefused, why

                        if isinstance(e, MQTTRefused):
                            if not reason.startswith("broker"):
                                self._log("error", str(e))  # the first refusal; summaries repeat it
                            reason = str(e)
                            # A refusal will not heal in a second: wait 3 to 6 s, then up to 30 s
                            cap = max(30000, self._opts[0])
                            attempt = max(attempt, 6)
                        else:
                            reason = why(e)
                    except Exception:  # MemoryError (oom_cb's own errors too: it may not stop us)
                        reason = "MemoryError"
                fails += 1
                if fails % _RESOLVE_AFTER == 0:
                    self._addr = None  # the broker may have moved
                if ticks_diff(ticks_ms(), said) >= self._opts[1]:
                    said = ticks_ms()
                    away = ticks_diff(said, self._down_since or said) // 1000
                    msg = "no connection to %s:%d for %d s: %d attempts failed, the last with %s"
                    self._log("warning", msg % (self._host, self._port, away, fails, reason))
                attempt += 1
                self._drop_connection()
            except MemoryError as e:  # the client's tasks may not die of it: none would reconnect
                self._napping = False
                self._fault("supervisor", e)
                await (asyncio.sleep(0.02) if CPYTHON else asyncio.sleep_ms(20))  # no allocation

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
            self._tasks.discard(task)  # it ends at its next turn: its frame is not kept till then

    async def _within(self, aw):  # aw, or an exception after response_time
        if CPYTHON:
            return await asyncio.wait_for(aw, self._resp_s)
        from .mpsock import within  # no asyncio.funcs: 0.7 KB of heap for good

        return await within(aw, self._resp_s)


def _close_writer(writer):
    # Close for real: MicroPython's Stream.close() does nothing; CPython's close() may wait
    # for the peer (TLS close_notify) and call back much later
    try:
        writer.abort() if CPYTHON else writer.s.close()
    except Exception:  # already closed or half-open: nothing more to do
        pass
