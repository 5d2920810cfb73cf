"""The bytes of one connection: parse what arrives into packets, write packets whole (its
watchdog is link.py's). Wire is the bottom layer of MQTTClient (MQTTClient, Session, Link, Wire:
one class, see __init__.py). It calls what the layers above provide: _dispatch(first, body) for
each whole packet and _discard(first, head, size) for a PUBLISH too big to keep (session.py),
_fault(where, e) when the link is dead (link.py); and it reads and writes Session's message
records."""

import asyncio

# 10 names at most in this module's dict (a 10-slot table, kept by the merged methods): these,
# less const after the constants, park, waitq, wake and Wire
from . import codec
from .codec import CPYTHON, const, ticks_ms

_PUBLISH = const(0x30)  # the one packet type the reader tells apart (a large one)
_CHUNK = const(256)  # bytes asked of the stream per read (MicroPython)
_SMALL = const(1024)  # bytes payloads up to this size are written at once, without slices
# MicroPython: payloads up to this size go out in the same write as their header (one TCP
# segment); a copy of both wants a hole that long, which a full heap may lack (mpsock.send)
_JOIN = const(96)
_SLICE = const(4096)  # MicroPython: larger bytes payloads in writes of this size (progress)
_FIRST = const(0)  # indices of the large packet's list
_SIZE = const(1)
_GOT = const(2)
_BODY = const(3)
_HEAD = const(4)
_REC_MSG = const(1)  # a message record's (session.py): its payload
_REC_RESULT = const(5)  # its result (True, False, or the exception publish() raises)
_REC_EVENT = const(4)  # what its publisher parks on
_REC_SENT = const(9)  # ticks of its last send on this connection, 0: not sent on it
del const  # MicroPython compiles the constants in: the name is needed no longer

if CPYTHON:  # await park(q) until wake(q): asyncio.Event, or MicroPython's TaskQueue alone
    from .cpython import park, waitq, wake
else:
    from .mpsock import park, waitq, wake


class Wire:  # a layer of MQTTClient, merged into it (__init__.py)
    # self._large: a large packet while it is filled or skipped: [first byte, size, bytes got,
    # body or None (skipping one too big to keep), head (skipping: the first bytes, topic and
    # packet id)]. self._lockq: the writers waiting for their turn (what each parks on), first
    # first: a list made at the first writer that has to wait (an empty list is 64 bytes). Both
    # None till then: MQTTClient.__getattr__'s default (the instance's and the class's tables
    # have no room to spare: see options.py and __init__.py)

    # ----------------------------------------------------------------- reading

    async def _read_loop(self, reader):
        """MicroPython: read until the link fails, which is always a fault (CPython: cpython.py)."""
        view = self._setup[4]  # the reader's one buffer for life, _CHUNK bytes (options.py)
        try:
            while True:
                large = self._large
                if large is not None and large[_BODY] and large[_SIZE] - large[_GOT] > _CHUNK:
                    # A large message goes straight into its own buffer: no copies on the way
                    got = await reader.readinto(memoryview(large[_BODY])[large[_GOT] :])
                    large[_GOT] += got
                    if got and large[_GOT] == large[_SIZE]:
                        self._fill(b"")  # nothing left to take: it finishes the packet
                else:
                    got = await reader.readinto(view)
                    if got:
                        self._feed(view[:got])
                if not got:
                    raise EOFError("connection closed by the broker")
                self._last_rx = ticks_ms()
                while self._acks_due:
                    await self._send(codec.puback(self._acks_due.pop(0)), None)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # malformed input, EOF, OSError: the link is dead
            self._fault("reader", e)

    def _feed(self, data):
        """Parse what arrived (bytes or memoryview), dispatch every complete packet; raise
        ValueError for malformed input. PUBACKs owed collect in _acks_due for the caller."""
        max_in = self._opts[15]  # max_incoming, 0: no limit
        if self._large is not None:
            used = self._fill(data)
            if self._large is not None or used == len(data):
                return
            data = data[used:]
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
                if size > _CHUNK or (max_in and size > max_in):
                    # A large packet starts: a buffer of its own, or skipped if it is too big
                    # or the heap is short (one message must not cost the link)
                    self._rbuf = b""
                    first = buf[pos]
                    if first & 0xF0 != _PUBLISH:
                        raise ValueError("packet 0x%02x of %d bytes" % (first, size))
                    body = None
                    if not max_in or size <= max_in:
                        try:
                            body = bytearray(size)
                        except MemoryError:
                            pass  # read and discarded
                    self._large = [first, size, 0, body, None if body is not None else bytearray()]
                    self._fill(buf[start:])
                    return
                break
            self._dispatch(buf[pos], buf[start:end])
            pos = end
        self._rbuf = bytes(buf[pos:]) if pos < n else b""

    def _fill(self, data):
        """Take bytes of the large packet from data; return how many were used. Its last byte
        dispatches it, or, skipped, counts it discarded."""
        large = self._large
        got = large[_GOT]
        take = min(len(data), large[_SIZE] - got)
        body = large[_BODY]
        if body is not None:
            body[got : got + take] = data[:take]
        else:  # skipping: keep only what names the topic and the packet id
            head = large[_HEAD]
            used = 0
            while used < take:
                keep = 2 if len(head) < 2 else 4 + (head[0] << 8 | head[1])
                if len(head) >= keep:
                    break
                k = min(take - used, keep - len(head))
                head += data[used : used + k]
                used += k
        large[_GOT] = got + take
        if got + take == large[_SIZE]:
            self._large = None
            if body is not None:
                self._dispatch(large[_FIRST], body)
            else:
                self._discard(large[_FIRST], large[_HEAD], large[_SIZE])
        return take

    # ----------------------------------------------------------------- writing

    async def _write(self, data, payload):  # payload: None, or one (no default: 32 bytes)
        """Write one packet whole; raise OSError (after recording the fault) if the link fails.
        No progress for response_time is a dead link (the watchdog faults it, waking this); a
        caller cancelled half-way through a packet takes the link down with it. No `finally`.
        payload may be a QoS 1 record in flight (publish() of a chunked payload): its payload
        is written, then its result awaited and returned (a dead link: it stays in flight)."""
        rec = None
        if payload.__class__ is list:  # a QoS 1 record in flight (publish(), chunked payload)
            rec, payload = payload, payload[_REC_MSG]
        join = _SMALL if CPYTHON else _JOIN
        if payload is not None and len(payload) <= join and hasattr(payload, "decode"):
            data = data + payload  # one write, one TCP segment
            payload = None
        if self._busy:
            await self._turn()  # _busy stays True: the releasing writer handed it over
        self._busy = True
        writer = self._writer
        self._writing = asyncio.current_task()
        self._tx_at = ticks_ms()
        try:
            if writer is None:
                raise OSError("not connected")
            if self._ping_due:  # a ping the watchdog could not write while we held the lock
                self._ping_due = False
                writer.write(b"\xc0\x00")  # PINGREQ
                self._ping_at = self._tx_at
            writer.write(data)
            if payload is not None:
                if hasattr(payload, "decode") and (CPYTHON or len(payload) <= _SMALL):
                    writer.write(payload)  # bytes, not chunked: the stream takes it all
                else:  # in pieces, each written and drained before the next is made
                    # (progress): bytes in slices, a chunked payload as made, cut or padded with
                    # spaces to len(). Here, not in a coroutine of its own: its frame (224 B,
                    # 64-bit) was one more under discovery's publication, the idle node's heap
                    # peak at the first connect. Few locals (payload: the bytes, or the
                    # iterator of the pieces), a shallow stack: 64-bit, 256 B (224 without
                    # the record, for which _emit's 160 B frame is not under this one)
                    join = len(payload)  # the header's size
                    if not hasattr(payload, "decode"):
                        payload = iter(payload)
                    data = 0  # the header is out: from here on the bytes made (not None: unsent)
                    while True:
                        if not hasattr(payload, "decode"):
                            piece = next(payload, None)
                        elif data < join:  # bytes: no generator of slices (a closure's cell)
                            piece = memoryview(payload)[data : data + _SLICE]
                        else:
                            piece = None
                        if piece is None:
                            break
                        data += len(piece)
                        if data > join:  # past the header's size: cut to it (logged below)
                            piece = piece[: max(0, len(piece) - data + join)]
                        # The piece at the stack's third word, which the yield below takes
                        # again: no stale copy deeper in the frame holds it while the stream
                        # drains and the next piece is made. MicroPython, the stream has taken
                        # all: a yield without drain()'s generator (128 B, 64-bit) on the heap
                        writer.write(piece)
                        piece = None
                        await (writer.drain() if CPYTHON or writer.out_buf else asyncio.sleep_ms(0))
                        self._tx_at = ticks_ms()
                    payload = None
                    if data < join:  # pieces short of len(): padded
                        writer.write(b" " * (join - data))
                    if data != join:
                        data = "chunked payload of %d bytes, not len() %d" % (data, join)
                        self._log("error", data)
            data = None  # the whole packet is issued
            # MicroPython, all taken: a yield, as drain() would, without its generator on the heap
            await (writer.drain() if CPYTHON or writer.out_buf else asyncio.sleep_ms(0))
            self._last_tx = self._tx_at = ticks_ms()
        except BaseException as e:  # CancelledError too
            e = self._sent(e, writer, data)  # data None: all issued
            if rec is None or not isinstance(e, OSError):
                raise e from None
        else:
            self._sent(None, writer, None)
            if rec is not None and rec[_REC_SENT]:
                rec[_REC_SENT] = self._tx_at  # once it was written
        if rec is not None:
            while rec[_REC_RESULT] is None:
                await park(rec[_REC_EVENT])
            if isinstance(rec[_REC_RESULT], Exception):
                raise rec[_REC_RESULT]
            return rec[_REC_RESULT]

    if CPYTHON:  # _send(data, payload or None): await it to write a packet whole
        _send = _write
    else:
        from .mpsock import send as _send  # small packets at once, without _write's frame

    def _sent(self, e, writer, unsent):
        """The packet is done with: the next writer's turn (_busy stays True for it). e: None,
        or what the write raised; then return what _send raises: OSError for a dead link."""
        mine = self._writing is asyncio.current_task()  # else the watchdog aborted the write
        if mine:
            self._writing = None
        if self._lockq:
            wake(self._lockq.pop(0))
        else:
            self._busy = False
        if e is None:
            return None
        if isinstance(e, asyncio.CancelledError):
            if not mine:
                return OSError("link lost while writing")
            if unsent is not None or getattr(writer, "out_buf", None):
                self._fault("write cancelled in the middle of a packet", None)
            return e
        if writer is None or not isinstance(e, Exception):
            return e
        self._fault("writer", e)
        return OSError("link lost while writing")

    async def _turn(self):
        # One packet at a time, FIFO, as asyncio.Lock (whose acquire() makes a generator)
        turn = waitq()
        if self._lockq is None:
            self._lockq = []
        self._lockq.append(turn)
        try:
            await park(turn)
        except asyncio.CancelledError:
            if turn in self._lockq:
                self._lockq.remove(turn)
            elif self._lockq:  # handed over just as we were cancelled: pass it on
                wake(self._lockq.pop(0))
            else:
                self._busy = False
            raise
