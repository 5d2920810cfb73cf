"""What MQTT keeps across connections: QoS 1 messages in flight, the offline queue, and the
application's callbacks (subscriptions: subs.py); what each packet that arrives means for them
(_dispatch: the reader of wire.py hands it each whole packet); and the client's tasks. Session
is the top layer of MQTTClient, merged into it with Link and Wire (__init__.py)."""

import asyncio

# 8 names at most in this module's dict (an 8-slot table, kept by the methods merged into
# MQTTClient): these, less const once the constants below are made, and Session; the clock is
# codec.ticks_ms
from . import codec
from .codec import const
from .wire import park, waitq, wake

# Indices of a message record (link.py's _fault and _watch read _HDR, _SENT, _REPUBS and
# _DEATHS too, as _REC_...)
_TOPIC = const(0)  # bytes; None once in flight (the header holds it)
_MSG = const(1)
_QOS = const(2)
_RETAIN = const(3)
_EVENT = const(4)
_RESULT = const(5)  # True, False (dropped) or the exception publish() raises
_PID = const(6)
_HDR = const(7)
_SEQ = const(8)
_SENT = const(9)  # ticks of the last send on this connection, 0: not sent on it
_REPUBS = const(10)  # re-sends on this connection for want of a PUBACK
_DEATHS = const(11)  # connections that died while it was sent and unacknowledged
_PUBLISH = const(0x30)  # the packet types _dispatch tells apart
_PUBACK = const(0x40)
_SUBACK = const(0x90)
_UNSUBACK = const(0xB0)
_PINGRESP = const(0xD0)
del const  # MicroPython compiles the constants in: the name is needed no longer


class Session:  # a layer of MQTTClient, merged into it (__init__.py)
    # self._slotq: QoS 1 records waiting for a slot in flight, first first: a list made at the
    # first wait (rare: max_inflight messages unacknowledged), None till then (an empty list is
    # 64 bytes; MQTTClient.__getattr__'s default)

    def _notify(self, up):
        """Called by the link after every connect (True) and every fault (False)."""
        if not up and self._reported is not True:
            return  # never reported up: no "down" either
        self._reported = up
        event = self.up if up else self.down
        if event is not None:
            event.set()
        wifi_coro, connect_coro = self._opts[4], self._opts[5]
        if wifi_coro:
            self._call(wifi_coro, up)
        if up and connect_coro:
            self._call(connect_coro, self)

    def _dispatch(self, first, body):
        # One whole packet from the reader (wire.py): what MQTT does with it
        kind = first & 0xF0
        if kind == _PUBLISH:
            if self._opts[15] and len(body) > self._opts[15]:  # max_incoming
                self._discard(first, body, len(body))
                return
            try:
                topic, msg, qos, retained, pid = codec.parse_publish(first, body)
            except MemoryError:
                self._discard(first, body, len(body))
                return
            # The application's: each matching subscription's callback, then the queue or subs_cb
            for f, sub in list(self._subs.items()):
                if sub[1] is not None and codec.matches(f, topic):
                    self._call(sub[1], topic, msg, retained)
            if self.queue is not None:
                self.queue.put((topic, msg, retained))
            elif self._opts[10] is not None:  # subs_cb
                self._call(self._opts[10], topic, msg, retained)
            if qos:
                self._acks_due.append(pid)
        elif first == _PUBACK:
            if len(body) != 2:
                raise ValueError("PUBACK with a body of %d bytes" % len(body))
            rec = self._inflight.pop(body[0] << 8 | body[1], None)
            if rec is None:
                self._stats[6] += 1  # stray_acks: a late ack for a re-sent message: harmless
            else:
                self._done(rec, True)
        elif first == _SUBACK or first == _UNSUBACK:
            short = len(body) < 3 if first == _SUBACK else len(body) != 2
            if short:  # a SUBACK holds an id and at least one code; an UNSUBACK an id only
                raise ValueError("ack 0x%02x of %d bytes" % (first, len(body)))
            codes = bytes(body[2:]) if first == _SUBACK else b"\x00"  # no heap: the fault wakes w
            w = self._waiters.pop(body[0] << 8 | body[1], None)
            if w is None:
                self._stats[6] += 1  # stray_acks
            else:
                w[1] = codes
                wake(w[0])
        elif first == _PINGRESP and not len(body):
            self._ping_at = None
        else:
            raise ValueError("unexpected packet 0x%02x of %d bytes" % (first, len(body)))

    def _discard(self, first, head, size):
        """Drop a PUBLISH too big to keep; it is still acknowledged, counted, logged once."""
        qos = (first >> 1) & 3
        tlen = head[0] << 8 | head[1] if len(head) >= 2 else 0
        if qos:
            if qos > 1 or len(head) < 4 + tlen:
                raise ValueError("PUBLISH QoS %d of %d bytes" % (qos, size))
            self._acks_due.append(head[2 + tlen] << 8 | head[3 + tlen])
        self._stats[8] += 1  # discarded
        if self._stats[8] == 1:
            try:
                msg = "discarded %d bytes on %s (max_incoming %d, or no heap); more: stats() only"
                self._log("warning", msg % (size, bytes(head[2 : 2 + tlen]), self._opts[15]))
            except MemoryError:
                pass

    async def _resend(self, recs):
        try:
            for rec in recs:
                if rec[_PID] in self._inflight:
                    rec[_HDR][0] |= 0x08
                    await self._send(rec[_HDR], rec[_MSG])
                    rec[_SENT] = codec.ticks_ms()
        except OSError:
            pass  # the link died: the reconnect re-sends them
        except MemoryError as e:  # as in every task of the client: a fault, not a dead task
            self._fault("re-send", e)
        self._tasks.discard(asyncio.current_task())  # see _spawn

    def _next_pid(self, rec):  # max_inflight keeps ids free, so this always ends
        """A free packet id (rec None: a SUBSCRIBE's, subs.py). A record about to be sent
        (rec): its header made, and a QoS 1 one's id taken and its place in flight. Here, not
        in _emit: the header's call took the deepest stack of _emit's frame (64-bit: 192 B ->
        160, a frame under a chunked payload's write)"""
        if rec is not None and not rec[_QOS]:
            rec[_HDR] = codec.publish_header(rec[_TOPIC], len(rec[_MSG]), 0, rec[_RETAIN], 0, 0)
            return 0
        pid = self._pid
        while True:
            pid = pid % 65535 + 1
            if pid not in self._inflight and pid not in self._waiters:
                self._pid = pid
                if rec is not None:
                    rec[_PID] = pid
                    rec[_HDR] = codec.publish_header(
                        rec[_TOPIC], len(rec[_MSG]), 1, rec[_RETAIN], pid, 0
                    )
                    # In flight it is never queued again (its re-sends are the header's): the
                    # header holds the topic, the record no copy of its own (64-bit: 64 B less
                    # for each message awaiting its PUBACK; link.py's _fault reads it there)
                    rec[_TOPIC] = None
                    self._inflight[pid] = rec
                    rec[_SENT] = codec.ticks_ms()
                return pid

    def _record(self, topic, msg, qos, retain):
        self._seq += 1
        return [topic, msg, qos, retain, waitq(), None, 0, None, self._seq, 0, 0, 0]

    def _done(self, rec, result):
        rec[_RESULT] = result
        wake(rec[_EVENT])
        if self._slotq and len(self._inflight) < self._opts[16]:  # max_inflight
            wake(self._slotq.pop(0)[_EVENT])  # a slot is free: its first waiter goes

    async def _emit(self, rec, wait):  # no default: a function object of 32 bytes, not 64
        """Send a record (link up) and, wait True, await its result; wait False: send it only
        (_flush); None: await the result only (queued: it is sent by a flush). QoS 1 stays in
        flight until PUBACK. The result: True, False (dropped), or the exception it raises."""
        # Its frame lies under a chunked payload's write (discovery's, at the first connect):
        # no locals but the arguments, the header made by _next_pid; the wait for the result
        # written in, not a coroutine of its own (a frame less under every wait for a PUBACK)
        if wait is not None and rec[_QOS]:
            while (
                len(self._inflight) >= self._opts[16]
            ):  # max_inflight; outages too: re-sends count
                if self._slotq is None:
                    self._slotq = []
                self._slotq.append(rec)  # in line, parked on its own: _done wakes one, not all
                try:
                    await park(rec[_EVENT])
                except asyncio.CancelledError:
                    if rec in self._slotq:
                        self._slotq.remove(rec)
                    elif self._slotq:
                        wake(self._slotq.pop(0)[_EVENT])  # pass on the slot handed to us
                    raise
        if wait is not None and rec[_RESULT] is None:  # else close() ended it meanwhile
            self._next_pid(rec)
            try:
                await self._send(rec[_HDR], rec[_MSG])
                if not rec[_QOS]:
                    self._done(rec, True)
                elif rec[_SENT]:
                    rec[_SENT] = self._tx_at  # _send's clock reading once the packet was written
            except OSError:  # QoS 1 is re-sent from _inflight after the reconnect
                if not rec[_QOS]:
                    self._outq.insert(0, rec)  # not sent: first in line for the next link
        if wait is False:
            return None
        try:
            while rec[_RESULT] is None:  # set without a result: a slot for _emit, not for us
                await park(rec[_EVENT])
        except asyncio.CancelledError:
            if rec in self._outq:
                self._outq.remove(rec)  # never sent: forget it; in flight: it still goes
            raise
        if isinstance(rec[_RESULT], Exception):
            raise rec[_RESULT]
        return rec[_RESULT]

    def _enqueue(self, rec):
        q = self._outq
        if len(q) >= self._opts[6]:  # out_queue_len
            if not q:
                self._stats[2] += 1  # dropped
                self._done(rec, False)  # out_queue_len 0: nothing waits while offline
                return
            # Full: a queued message on the same topic is superseded by the new one (state
            # keeps its latest value); otherwise the oldest message goes.
            victim = 0
            for i, old in enumerate(q):
                if old[_TOPIC] == rec[_TOPIC]:
                    victim = i
                    break
            self._done(q.pop(victim), False)
            self._stats[2] += 1  # dropped
        q.append(rec)
        if self._connected == 2 and len(q) == 1:  # queued behind another: a flusher keeps order
            self._spawn(self._flush())

    async def _flush(self):
        try:
            while self._outq and self._connected == 2:
                await self._emit(rec := self._outq.pop(0), False)
        except MemoryError as e:  # the reconnect's restore flushes again, this record first
            if rec[_RESULT] is None and rec[_PID] not in self._inflight:
                self._outq.insert(0, rec)
            self._fault("flush", e)
        self._tasks.discard(asyncio.current_task())  # see _spawn

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
        self._tasks.discard(asyncio.current_task())  # see _spawn

    def _log(self, level, msg):
        # Logging never raises: not for a broken log callback, not for a MemoryError
        try:
            if self._opts[8] is not None:  # the log callback
                self._opts[8](level, msg)
            elif self.DEBUG or level in ("warning", "error"):
                print("mqtt_as", level + ":", msg)
        except Exception:
            pass

    def _callback_failed(self, e):
        self._stats[7] += 1  # callback_errors
        try:
            from .errors import why

            self._log("error", "callback raised %s" % why(e))
        except MemoryError:
            pass

    # ----------------------------------------------------------------- tasks

    def _spawn(self, coro):
        # Finished tasks are pruned here rather than by a wrapper coroutine: one frame less each.
        # The client's own tasks also leave _tasks at their end (`_tasks.discard(current_task())`),
        # not at the next _spawn() (which may come an hour later): a finished coroutine holds its
        # last locals (a record, a callback's own finished coroutine...) as long as it is kept
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
