"""MicroPython only: the broker connection as a stream of our own, never imported on CPython.
The socket is the client's to close: Stream.close() does nothing on MicroPython. Opening it
(the name looked up once) and the CONNECT deadline are conn.py's: rarely run, not kept.

The stream is a small one of our own rather than asyncio's StreamWriter: importing
asyncio.stream costs about 1.7 KB of heap (64-bit) for a server, readline and more that the
client never uses.
"""

from asyncio import core


class Stream:
    """The reading and writing half of one non-blocking socket (`s`), as asyncio's Stream."""

    def __init__(self, sock):
        self.s = sock
        self.out_buf = b""  # what the socket has not taken yet; drain() writes it

    # The generators below are awaitable on MicroPython, as asyncio's own stream methods are

    def readinto(self, buf):
        """Wait for data and read it into buf; 0 at EOF."""
        while True:
            yield core._io_queue.queue_read(self.s)
            n = self.s.readinto(buf)
            if n is not None:  # None: a wake-up without application data (TLS)
                return n

    def readexactly(self, n):
        buf = bytearray(n)
        got = 0
        while got < n:
            k = yield from self.readinto(memoryview(buf)[got:])
            if not k:
                raise EOFError("connection closed by the broker")
            got += k
        return buf

    def write(self, buf):
        if not self.out_buf:
            n = self.s.write(buf)  # try at once; the rest waits for drain()
            if n == len(buf):
                return
            if n:
                buf = buf[n:]
        self.out_buf += buf

    def drain(self):
        if not self.out_buf:
            return (yield from core.sleep_ms(0))  # always yield: a write loop cannot hog
        view = memoryview(self.out_buf)
        off = 0
        while off < len(view):
            yield core._io_queue.queue_write(self.s)
            n = self.s.write(view[off:])
            if n is not None:
                off += n
        self.out_buf = b""


waitq = core.TaskQueue  # what park() waits on: 32 bytes, where an asyncio.Event takes ~100


def park(q):
    """Await: the running task waits on q until wake(q) or a cancel, as asyncio.Event.wait() does
    without the Event (asyncio.event, 1.2 KB of heap, is never imported): callers keep the state
    and check it before they park, since a wake with no one parked is lost."""
    t = core.cur_task
    q.push(t)
    t.data = q  # so that Task.cancel() takes it off q
    yield


def wake(q):
    while q.peek():
        core._task_queue.push(q.pop())


def send(c, data, payload):  # Wire._send on MicroPython (payload: None, or one; no default: 32 B)
    """Awaitable: write one packet whole (Wire._write). A small one the socket takes whole while
    no one else writes is written here, and a yield is handed back, the shared generator of
    asyncio.sleep_ms(0) (await it at once): no coroutine frame per packet (at the subscribe peak
    that frame found no room in a 20 KiB heap) and no loop turn holding the write lock."""
    whole = payload is None  # else: bytes up to 1 KiB are written here too (Wire's _SMALL)
    if not whole and len(payload) <= 1024 and hasattr(payload, "decode"):
        whole = True
        if len(payload) <= 96:  # one write, one TCP segment (Wire._JOIN): a short copy
            data = data + payload
            payload = None
    w = c._writer
    if not whole or c._busy or w is None or w.out_buf or c._ping_due:
        return c._write(data, payload)
    # A larger payload in a write of its own: a copy of header and payload wants a block as
    # long as both, and after the first connect a full heap may have no such hole (the status
    # report: ~350 bytes), while the packet is still whole on the stream
    try:
        w.write(data)
    except Exception:
        return c._write(data, payload)  # nothing was written: _write fails and faults the link
    if payload is not None:
        try:
            w.write(payload)  # after the header: the stream keeps what the socket did not take
        except Exception:
            return c._write(payload, None)  # the header is out: _write fails and faults the link
    c._last_tx = c._tx_at = core.ticks()
    return c._write(b"", None) if w.out_buf else core.sleep_ms(0)  # the rest: _write drains it
