"""MicroPython only: open the broker connection as a stream of our own, never imported on CPython.

asyncio.open_connection looks the name up on every call, and getaddrinfo blocks the whole loop
there (seconds, when DNS is slow): the address is looked up once and kept on the client (which
forgets it after repeated failures). The socket is the client's to close: Stream.close() does
nothing on MicroPython.

The stream is a small one of our own rather than asyncio's StreamWriter: importing
asyncio.stream costs about 1.7 KB of heap (64-bit) for a server, readline and more that the
client never uses.
"""

import socket
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


def send(c, data, payload=None):  # Wire._send on MicroPython
    """Awaitable: write one packet whole (Wire._write). A small one the socket takes whole while
    no one else writes is written here, and a yield is handed back, the shared generator of
    asyncio.sleep_ms(0) (await it at once): no coroutine frame per packet (at the subscribe peak
    that frame found no room in a 20 KiB heap) and no loop turn holding the write lock."""
    if payload is not None and len(payload) <= 1024 and hasattr(payload, "decode"):
        data = data + payload  # one write, one TCP segment (Wire's _SMALL)
        payload = None
    w = c._writer
    if payload is not None or c._busy or w is None or w.out_buf or c._ping_due:
        return c._write(data, payload)
    try:
        w.write(data)
    except Exception:
        return c._write(data)  # nothing was written: _write fails and faults the link
    c._last_tx = c._tx_at = core.ticks()
    return c._write(b"") if w.out_buf else core.sleep_ms(0)  # the rest: _write drains it


async def open_connection(client):
    """(reader, writer) of a new connection; the first write waits for it to complete."""
    tls = client._hello[1]
    addr = client._addr
    if addr is None:
        addr = socket.getaddrinfo(client._host, client._port, 0, socket.SOCK_STREAM)[0]
        client._addr = addr
    sock = socket.socket(addr[0], addr[1], addr[2])
    try:
        sock.setblocking(False)
        try:
            sock.connect(addr[-1])
        except OSError as e:
            if e.errno != 115 and e.errno != 119:  # EINPROGRESS (Linux, lwIP)
                raise
        try:
            sock.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY: no 40 ms ack stalls
            # Linux: at most 16 KiB unsent in the kernel, so a stalled write shows (lwIP's
            # buffers are small anyway)
            sock.setsockopt(6, 25, 16384)  # TCP_NOTSENT_LOWAT
        except (OSError, AttributeError):
            pass  # a port without the options still works
        if tls:
            sock = tls[0].wrap_socket(sock, server_hostname=tls[1], do_handshake_on_connect=False)
            sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    stream = Stream(sock)
    return stream, stream


async def within(aw, seconds):
    """aw, or OSError after `seconds`: a timer task that cancels the caller, as asyncio.wait_for
    does, without importing asyncio.funcs (0.7 KB of heap for good) or running aw in a task."""
    timer = core.create_task(_expire(core.cur_task, seconds))
    try:
        return await aw
    except core.CancelledError:
        if timer.done():  # it fired: the time is up (else the caller itself was cancelled)
            raise OSError("no answer within %s s" % seconds) from None
        raise
    finally:
        timer.cancel()  # before the caller's next await: it can never fire later


async def _expire(task, seconds):
    try:
        await core.sleep(seconds)
    except MemoryError:  # no heap for the float: the time is up now rather than never
        pass
    task.cancel()
