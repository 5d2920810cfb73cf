"""One broker connection and its upkeep: close for real, watch it (pings, stalls, late acks),
detect faults, reconnect, log. Its making and opening (init, _open) are conn.py's. A layer of
MQTTClient (see __init__.py) between Wire (bytes) and Session, whose _notify(up), _done(record,
result), _resend(records), _spawn(coro) and _log(level, msg) it calls; a fault counts a death for
each QoS 1 message it cut (Session's records)."""

import asyncio

# 8 names at most in this module's dict (an 8-slot table, kept by the methods merged into
# MQTTClient): these, less const once the constants below are made, and Link
from .codec import CPYTHON, const, ticks_diff, ticks_ms
from .wire import wake

_RESOLVE_AFTER = const(3)  # failed attempts before the broker's name is looked up again
_REC_HDR = const(7)  # a message record's (session.py): its header, which holds the topic
_REC_SENT = const(9)  # ticks of its last send on this connection, 0: not sent on it
_REC_REPUBS = const(10)  # its re-sends on this connection for want of a PUBACK
_REC_DEATHS = const(11)  # connections that died while it was sent and unacknowledged
del const  # MicroPython compiles the constants in: the name is needed no longer


class Link:  # a layer of MQTTClient, merged into it (__init__.py)
    def _fault(self, where, e):  # e: None, or the exception (no default: 32-byte function)
        """The link is dead: tear it down once and wake the supervisor to reconnect. State first,
        words after: formatting the reason may raise MemoryError; the state must not lie then."""
        if not self._connected:
            return
        # No allocation up to `try`, so even with no heap left the supervisor reconnects
        self._down_since = ticks_ms()
        self._connected = False
        self._stats[10] = 1 if isinstance(e, MemoryError) else 2  # how it died (supervisor)
        if self._napping:  # wake the supervisor: it reconnects at once
            self._napping = False
            self._supervisor.cancel()
        try:
            self._drop_connection()
            self._stats[4] += 1  # faults
            self._stats[5] = where  # last_fault
            # A QoS 1 message sent on the dead connection and never acknowledged counts a death;
            # one that killed max_repubs + 1 connections is poison (too big, a topic the broker
            # rejects): its publish() raises. The same for SUBSCRIBEs (subs.py)
            for pid in list(self._inflight):
                rec = self._inflight[pid]
                if rec[_REC_SENT]:
                    rec[_REC_SENT] = 0
                    rec[_REC_DEATHS] += 1
                    if rec[_REC_DEATHS] > self._opts[11]:  # max_repubs
                        del self._inflight[pid]
                        from .codec import decode_length
                        from .errors import MQTTError  # on the first error: idle, none

                        hdr = rec[_REC_HDR]  # the topic: after the remaining length, its size
                        pos = decode_length(hdr, 1)[1]
                        topic = bytes(hdr[pos + 2 : pos + 2 + (hdr[pos] << 8 | hdr[pos + 1])])
                        msg = "QoS 1 message to %s not acknowledged: the link died after each of"
                        msg += " its %d sends (too big for the broker, or a topic it rejects?)"
                        self._done(rec, MQTTError(msg % (topic, rec[_REC_DEATHS])))
            # A subscription ([qos, callback, state, deaths], subs.py) whose SUBSCRIBE was
            # pending on it (state True) counts a death too; past max_repubs it is dropped (a
            # subscribe() waiting for it raises when it wakes)
            if self._subs:
                for f, sub in list(self._subs.items()):
                    if sub[2] is True:
                        sub[2] = None
                        sub[3] += 1
                        if sub[3] > self._opts[11]:  # max_repubs
                            del self._subs[f]
                            from .errors import sub_error

                            self._log("error", "dropped " + str(sub_error(f, sub[3])))
            self._notify(False)
            if e is not None:
                from .errors import why

                where = "%s: %s" % (where, why(e))
            self._stats[5] = where
            msg = "link to %s:%d lost: %s"
            self._log("warning", msg % (self._setup[2], self._setup[3], where))  # host, port
        except MemoryError:
            pass

    def _drop_connection(self):
        """Close the connection for real and wake everything that waits on it."""
        if self._connected:
            self._down_since = ticks_ms()
        self._connected = False
        for task in self._conn_tasks:  # the reader (MicroPython), the restore's watchdog
            self._cancel(task)
        self._conn_tasks = ()
        task, self._writing = self._writing, None
        if not CPYTHON and task is not None and task is not asyncio.current_task():
            task.cancel()  # a writer blocked in drain; CPython's abort wakes it instead
        if self._writer is not None:
            # Close for real: MicroPython's Stream.close() does nothing; CPython's close() may
            # wait for the peer (TLS close_notify) and call back much later
            try:
                self._writer.abort() if CPYTHON else self._writer.s.close()
            except Exception:  # already closed or half-open: nothing more to do
                pass
        self._writer = None
        # SUBACK/UNSUBACK waiters retry after the reconnect; QoS 1 records stay in flight, and
        # publishers waiting for a slot keep waiting: the re-sends take the slots first
        for pid in self._waiters:  # no list: short of heap, a teardown still wakes them
            wake(self._waiters[pid][0])
        self._waiters.clear()

    async def _keep_connected(self):  # the supervisor: the watchdog, then reconnects (fault)
        # Its frame is on the heap for the client's life, so the outage's counters live in
        # _reconnect's, made for an outage only, and oom_cb's count in _stats (64-bit: this
        # frame 384 -> 256 bytes)
        queued = 0  # CPython: the transport's unsent bytes at the last tick
        attempt = 0  # failed tries since the last connection that lasted
        up_at = ticks_ms()  # when the connection came up
        self._stats[9] = self._stats[10] = 0  # oom_cb's count, the death to judge (options.py)
        while self._running:
            try:  # in the try, as all: a MemoryError must not end this task (ms: no float made)
                if not self._connected:
                    # Once an outage (_fault noted how the connection died): one that died of
                    # MemoryError within 10 s counts as a connect attempt lost to it, so a heap
                    # too full to live connected reaches oom_cb's limit; one that lasted, or
                    # died otherwise, starts the count again. No allocation
                    if self._stats[10] == 1 and ticks_diff(ticks_ms(), up_at) < 10000:
                        self._lost_to_oom()
                    elif self._stats[10]:
                        self._stats[9] = 0
                    self._stats[10] = 0
                    attempt = await self._reconnect(attempt, up_at)
                    up_at = ticks_ms()
                    queued = 0
                    continue
                resp_ms = int(self._opts[12] * 1000)  # response_time
                tick = max(20, min(self._opts[13], resp_ms) // 4)  # ping interval (ms)
                self._napping = True
                try:
                    await (asyncio.sleep(tick / 1000) if CPYTHON else asyncio.sleep_ms(tick))
                except asyncio.CancelledError:
                    # _fault clears _napping to wake us, other cancels are real (uncancel():
                    # CPython >= 3.11 counts them; it takes ours back, says how many remain)
                    if (
                        self._napping
                        or not self._running
                        or getattr(asyncio.current_task(), "uncancel", int)()
                    ):
                        self._napping = False
                        raise
                self._napping = False
                if self._connected:
                    queued = self._watch(ticks_ms(), resp_ms, queued)
            except MemoryError:  # the client's tasks may not die of it: none would reconnect
                self._napping = False
                if self._connected:  # no `as e`: a smaller frame, for good
                    self._fault("supervisor: MemoryError", None)
                    self._stats[10] = 1  # a death of MemoryError, as those _fault is told of
                elif self._running:  # no heap for _reconnect's frame: an attempt lost to it
                    self._lost_to_oom()
                await (asyncio.sleep(0.02) if CPYTHON else asyncio.sleep_ms(20))  # no allocation

    def _lost_to_oom(self):
        """One more connect attempt in a row lost to MemoryError: oom_cb(n). It may reset
        (SystemExit passes); an Exception it raises is logged once an outage."""
        s = self._stats
        s[9] += 1  # a small int: no allocation
        if self._opts[7] is None:
            return
        try:
            self._opts[7](s[9])
        except Exception as e:
            if not s[11]:
                try:  # formatting may find no heap: logged at a later call of this outage then
                    self._log("error", "oom_cb raised %s: %s" % (type(e).__name__, e))
                    s[11] = 1
                except Exception:  # MemoryError, or a broken __str__: the supervisor goes on
                    pass

    async def _reconnect(self, attempt, up_at):
        """The supervisor in an outage: reconnect with backoff until connected or stopped; the
        failed attempts to carry on (they reset once a connection lasted 10 s)."""
        # A connection just died: young (a flapping link, short RAM), it counts: no storm
        attempt = 0 if ticks_diff(ticks_ms(), up_at) >= 10000 else attempt + 1
        cap = self._opts[0]
        fails = 0
        said, reason = ticks_ms(), ""  # when the last summary line was logged, and why
        while self._running and not self._connected:
            try:  # a MemoryError must not end the outage's count (oom_cb): it stays in here
                if attempt:
                    try:  # jitter: a random byte
                        from random import getrandbits

                        r = getrandbits(8)
                    except ImportError:
                        r = ticks_ms() & 0xFF
                    delay = min(cap, 50 << min(attempt, 12)) * (128 + r // 2) // 255  # ms
                    await (asyncio.sleep(delay / 1000) if CPYTHON else asyncio.sleep_ms(delay))
                try:
                    self._drop_connection()  # finish a teardown that ran out of memory half-way
                    await self._open(self._opts[2])  # clean
                    self._stats[11] = 0  # the outage is over: an oom_cb raise is logged again
                    return attempt
                except Exception as e:  # refusals, OSError, timeouts, MemoryError: "try again"
                    # The attempt, or the connection it made (a fault in the session restore),
                    # died of MemoryError: counted (oom_cb); else the count starts again
                    if isinstance(e, MemoryError) or self._stats[10] == 1:
                        self._lost_to_oom()
                    else:
                        self._stats[9] = 0
                    self._stats[10] = 0
                    try:  # errors.py is imported on the first failure: an idle client needs none
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
                    except Exception:  # MemoryError: no heap to say more
                        reason = "MemoryError"
                fails += 1
                if fails % _RESOLVE_AFTER == 0:
                    self._addr = None  # the broker may have moved
                if ticks_diff(ticks_ms(), said) >= self._opts[1]:
                    said = ticks_ms()
                    away = ticks_diff(said, self._down_since or said) // 1000
                    msg = "no connection to %s:%d for %d s: %d attempts failed, the last with %s"
                    msg %= (self._setup[2], self._setup[3], away, fails, reason)  # host, port
                    self._log("warning", msg)
                attempt += 1
                self._drop_connection()
            except MemoryError:
                await (asyncio.sleep(0.02) if CPYTHON else asyncio.sleep_ms(20))  # no allocation
        return attempt

    # ----------------------------------------------------------------- watching

    def _watch(self, now, resp_ms, queued):
        """A watchdog tick: ping a quiet link, fault a dead one, re-send QoS 1. Dead: no answer
        within response_time of a PINGREQ while nothing is written, or a write without progress
        for response_time (the kernel takes acknowledged bytes only). `queued`: what CPython's
        transport held unsent at the last tick (shrinking is progress); returned for the next."""
        try:
            if self._opts[9] is not None and not self._opts[9].isconnected():  # link
                self._fault("network link down", None)
                return queued
            if CPYTHON:
                size = self._writer.buffered()
                if size != queued:
                    queued = size
                    self._tx_at = now
            if self._writing is not None and ticks_diff(now, self._tx_at) > resp_ms:
                self._fault("no write progress for %d ms" % resp_ms, None)
                return queued
            if self._ping_at is not None:
                if ticks_diff(self._last_rx, self._ping_at) >= 0:
                    self._ping_at = None  # anything received proves the link alive
                elif min(ticks_diff(now, self._ping_at), ticks_diff(now, self._tx_at)) > resp_ms:
                    self._fault("no answer within %d ms of PINGREQ" % resp_ms, None)
                    return queued
            elif (
                max(ticks_diff(now, self._last_rx), ticks_diff(now, self._last_tx))
                >= self._opts[13]  # ping interval (ms)
            ):
                if self._busy:
                    self._ping_due = True  # the writer sends it before its next packet
                else:
                    self._writer.write(b"\xc0\x00")  # PINGREQ; never waits
                    self._ping_at = self._last_tx = now
            if self._writing is not None or not (self._inflight or self._waiters):
                return queued  # nothing awaits an ack, or acks wait behind a long write
            # A SUBACK/UNSUBACK, or a PUBACK after max_repubs re-sends (DUP, same id) of its
            # message, that is response_time late: the link is dead (as in mqtt_as)
            for w in self._waiters.values():
                if w[2] is not None and ticks_diff(now, w[2]) > resp_ms:
                    if ticks_diff(now, self._tx_at) > resp_ms:
                        self._fault("no SUBACK/UNSUBACK within %s s" % self._opts[12], None)
                        return queued
            due = []
            for rec in self._inflight.values():
                sent = rec[_REC_SENT]
                if (
                    sent
                    and ticks_diff(now, sent) > resp_ms
                    and ticks_diff(now, self._tx_at) > resp_ms
                ):
                    if rec[_REC_REPUBS] >= self._opts[11]:  # max_repubs
                        self._fault("no PUBACK after %d re-sends" % rec[_REC_REPUBS], None)
                        return queued
                    rec[_REC_REPUBS] += 1
                    rec[_REC_SENT] = now
                    due.append(rec)
            if due:
                self._spawn(self._resend(due))
        except Exception as e:
            self._fault("keepalive", e)
        return queued
