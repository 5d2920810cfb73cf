"""CPython only: the connection as an asyncio Protocol that parses as the bytes arrive.

With streams, every incoming packet costs one event-loop turn to wake a reader task before the
waiting publisher can run; here the PUBACK is parsed and the publisher woken in the same turn
that read it. The Protocol is a BufferedProtocol: the transport reads into one buffer of ours
(recv_into), where data_received would get a new bytes object per read, which asyncio makes by
reading into a 256 KiB allocation (mmap, page faults, mremap, munmap: three system calls per
read). MicroPython keeps the streams (wire.py's _read_loop) and never imports this.
"""

import asyncio

from .codec import puback, ticks_ms

_DISCONNECT = b"\xe0\x00"  # the packet conn.py writes

waitq = asyncio.Event  # wire.py's wait mechanism on CPython (MicroPython's: mpsock.py)


def park(q):  # a wake before the park is lost, as on MicroPython: callers check their state
    q.clear()
    return q.wait()


def wake(q):
    q.set()


class _Ready:
    """What drain() returns when the transport takes more: awaiting it does not suspend."""

    def __await__(self):
        return iter(())


_READY = _Ready()


_BUF = 65536  # bytes read at most per recv_into


class Connection(asyncio.BufferedProtocol):
    """Both halves of one connection: the reader (`readexactly` until `start`) and the writer.

    Once aborted it is detached: a callback of this transport that comes late (TLS may report
    connection_lost seconds after) never reaches the client, whose next connection it is not.
    """

    def __init__(self, resp_s=10):
        self._resp_s = resp_s  # the longest wait for the kernel to take the last bytes
        self._closing = False  # DISCONNECT written: drain() waits for an empty buffer
        self._transport = None
        self._link = None
        self._pre = b""  # bytes before start(): the CONNACK, perhaps a message after it
        self._arrived = asyncio.Event()
        self._can_write = asyncio.Event()
        self._can_write.set()
        self._lost = None
        self._cork = None  # packets held for one send at the end of this loop turn, or None
        self._hot = False  # written since data last arrived: the next packet is corked
        self._buf = memoryview(bytearray(_BUF))  # what the transport reads into

    # -- the reader's side, for the handshake

    async def readexactly(self, n):
        while len(self._pre) < n:
            if self._lost is not None:
                raise EOFError("connection closed by the broker")
            self._arrived.clear()
            await self._arrived.wait()
        data, self._pre = self._pre[:n], self._pre[n:]
        return data

    def start(self, link):
        """Hand every byte from now on (and any already here) to link._feed."""
        self._link = link
        if self._pre:
            pre, self._pre = self._pre, b""
            self._received(pre)

    # -- the writer's side, as StreamWriter offers it

    def write(self, data):
        if self._lost is not None or self._transport.is_closing():
            raise ConnectionResetError("connection lost")  # not "sent" into the void
        if data == _DISCONNECT:
            # The last packet: it follows what is held, and drain() waits until the transport
            # has handed every byte to the kernel, since the close that follows is an abort,
            # which would drop them (the tail of a QoS 0 burst, and the DISCONNECT: the broker
            # would then publish the will)
            self._flush()
            self._closing = True
            self._transport.write(data)
            self._transport.set_write_buffer_limits(0)  # pauses us until the buffer is empty
            return
        if not self._hot or len(data) > 4096:
            # The first packet since data arrived (a publish after its PUBACK, a reply) goes
            # at once: no latency. So does a large payload: the transport's drain paces it
            if self._cork:
                self._flush()
            self._hot = True
            self._transport.write(data)
            return
        # A burst (QoS 0 in a loop): the packets leave together at the end of the loop turn,
        # one send for many, and the broker reads full segments
        cork = self._cork
        if cork is None:
            cork = self._cork = []
            asyncio.get_running_loop().call_soon(self._flush)
        cork.append(bytes(data))  # a copy of a bytearray the caller may reuse
        if len(cork) >= 64:
            self._flush()

    def _flush(self):
        cork, self._cork = self._cork, None
        if cork and self._lost is None:
            self._transport.write(b"".join(cork))

    def drain(self):
        if self._lost is None and self._can_write.is_set():
            return _READY  # the common case: no coroutine, no suspension
        return self._drain()

    async def _drain(self):
        if self._closing:  # bounded: the abort that follows closes the link anyway
            try:
                await asyncio.wait_for(self._can_write.wait(), self._resp_s)
            except asyncio.TimeoutError:
                pass
        else:
            await self._can_write.wait()  # set again by resume_writing or by connection_lost
        if self._lost is not None:
            raise ConnectionResetError("connection lost")

    def buffered(self):
        """Bytes written and not yet taken by the kernel."""
        return self._transport.get_write_buffer_size() if self._lost is None else 0

    def abort(self):
        """Close at once, without waiting for the peer, and detach from the client."""
        self._link = self._cork = None
        if self._lost is None:
            self._lost = ConnectionResetError("connection closed")
        self._can_write.set()
        self._arrived.set()
        if self._transport is not None:
            self._transport.abort()

    # -- asyncio.Protocol

    def connection_made(self, transport):
        self._transport = transport

    def get_buffer(self, sizehint):
        return self._buf

    def buffer_updated(self, nbytes):
        # A view into our buffer, valid until the next read: _feed copies what it keeps
        self._received(self._buf[:nbytes])

    def _received(self, data):
        link = self._link
        if link is None:
            if self._lost is None:
                self._pre += data
                self._arrived.set()
            return
        link._last_rx = ticks_ms()
        self._hot = False
        try:
            n = len(data)
            if n > 1 and data[1] == n - 2 < 128 and not link._rbuf and link._large is None:
                # The read is one whole small packet and nothing was half-read before it (a
                # PUBACK, a short message): what _feed does with it, without the parse loop
                link._dispatch(data[0], data[2:])
            else:
                link._feed(data)
            while link._acks_due:
                self.write(puback(link._acks_due.pop(0)))
        except Exception as e:  # malformed input, MemoryError: the link is dead
            link._fault("reader", e)

    def eof_received(self):
        return False  # close our side too; connection_lost follows

    def connection_lost(self, exc):
        if self._lost is None:
            self._lost = exc or EOFError("connection closed by the broker")
        self._arrived.set()
        self._can_write.set()
        if self._link is not None:
            self._link._fault("reader", self._lost)

    def pause_writing(self):
        self._can_write.clear()

    def resume_writing(self):
        self._can_write.set()


async def open_connection(client):
    """Like asyncio.open_connection, but one object serves as reader and writer."""
    conn = Connection(client._opts[12])  # response_time
    kw = {}
    if client._setup[1]:  # TLS: (context, name)
        kw["ssl"], kw["server_hostname"] = client._setup[1]
    make = asyncio.get_running_loop().create_connection(
        lambda: conn, client._setup[2], client._setup[3], **kw
    )
    transport, _ = await asyncio.wait_for(make, client._opts[12])
    try:  # Linux: keep unsent bytes in our buffer, where their progress can be seen
        transport.get_extra_info("socket").setsockopt(6, 25, 16384)  # TCP_NOTSENT_LOWAT
    except (OSError, AttributeError):
        pass
    return conn, conn
