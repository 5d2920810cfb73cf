"""The client's streams as the HTTP component hands them to microdot. Part of `.net.http`.

Reader caps the request head; Writer gives each write that has to wait a deadline;
until_closed notices an event-stream client that left.
"""

import asyncio


async def until_closed(reader, client):
    # An event stream's client sends nothing more: end of stream or an error means it left, so
    # its stream is freed now, not at the next event
    try:
        while await reader.read(64):
            pass
    except Exception:  # reset by the peer
        pass
    if not client.closed:
        client.why = "client gone"
        client.close()


class HeadTooLong(ValueError):
    pass


class Reader:
    """The client's stream with a cap on the request line and headers.

    MicroPython's readline() gathers a line of any length; this one reads in small pieces and
    stops at max_head bytes, so a 1 MB header costs the node max_head bytes, not 1 MB.
    """

    def __init__(self, reader, max_head):
        self._r = reader
        self._buf = b""
        self._left = max_head

    async def readline(self):
        while True:
            i = self._buf.find(b"\n")
            if i >= 0:
                line = self._buf[: i + 1]
                self._buf = self._buf[i + 1 :]
                return line
            if self._left <= 0:
                raise HeadTooLong("request head too long")
            data = await self._r.read(min(256, self._left))
            if not data:
                line, self._buf = self._buf, b""
                return line
            self._left -= len(data)
            self._buf += data

    async def read(self, n=-1):
        if self._buf:
            data = self._buf if n < 0 else self._buf[:n]
            self._buf = self._buf[len(data) :]
            return data
        return await self._r.read(n)

    async def readexactly(self, n):
        data = self._buf[:n]
        self._buf = self._buf[len(data) :]
        if len(data) < n:
            data += await self._r.readexactly(n - len(data))
        return data


class Writer:
    """The client's stream: a write that cannot go out at once must drain within the deadline,
    else OSError(EPIPE), which microdot treats as a client that went away (an event stream is
    then closed). Writes the socket takes at once cost no task and no timer."""

    def __init__(self, writer, timeout):
        self._w = writer
        self._timeout = timeout

    def _pending(self):
        buf = getattr(self._w, "out_buf", None)  # MicroPython: what the socket did not take
        if buf is not None:
            return len(buf)
        transport = getattr(self._w, "transport", None)  # CPython
        return transport.get_write_buffer_size() if transport is not None else 1

    async def awrite(self, data):
        closing = getattr(self._w, "is_closing", None)  # CPython writes into a lost link silently
        if closing is not None and closing():
            raise OSError(32, "client gone")
        self._w.write(data)
        if self._pending():
            await self._drain()

    async def _drain(self):
        try:
            await asyncio.wait_for(self._w.drain(), self._timeout)
        except asyncio.TimeoutError:
            raise OSError(32, "client too slow") from None

    async def aclose(self):
        try:
            if self._pending():
                await self._drain()  # MicroPython's close() drops what is not sent yet
        except Exception:  # too slow or gone: close anyway
            pass
        try:
            if self._pending():  # never drained: drop it, or CPython waits for the peer
                transport = getattr(self._w, "transport", None)
                if transport is not None:
                    transport.abort()
            self._w.close()
            await self._w.wait_closed()
        except Exception:  # closed already or reset by the client
            pass

    def get_extra_info(self, name):
        return self._w.get_extra_info(name)
