"""MicroPython only: open the broker connection as a stream of our own, never imported on CPython.

asyncio.open_connection looks the name up on every call, and getaddrinfo blocks the whole loop
there (seconds, when DNS is slow): the address is looked up once and kept on the client (which
forgets it after repeated failures). The socket is the client's to close: Stream.close() does
nothing on MicroPython.
"""

import asyncio
import socket


async def open_connection(client):
    """(reader, writer) of a new connection; the first write waits for it to complete."""
    ctx = client._ssl
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
        if ctx:
            name = client._ssl_params.get("server_hostname") or client._host
            sock = ctx.wrap_socket(sock, server_hostname=name, do_handshake_on_connect=False)
            sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    stream = asyncio.StreamWriter(sock)  # one MicroPython Stream reads and writes
    return stream, stream
