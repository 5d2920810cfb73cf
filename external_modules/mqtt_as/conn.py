"""The client's rarely run code, functions of the client `c` reached through
MQTTClient.__getattr__: connect (on MicroPython the socket and the deadline too), the session
restore, disconnect, close, broker_up (unsubscribe is subs.py's). Frozen, this module is
imported for each use and dropped from sys.modules at once: a connected client keeps none of it
(options.py, alike).
What must work with no heap left (faults, the teardown, the watchdog) stays in the classes.
Few names in this module's dict, as it is made again for each use: 12 at most (its 10
functions, __name__ and __file__: a table of 12 slots, 192 bytes; 13 grow it to 17, 272 bytes, a
block a fragmented heap may lack at start-up), so every import is local, indices and packet
types are literals, and what one function alone uses is written out in it."""


async def connect(c, quick=False):
    """Connect once; raise MQTTError (MQTTRefused for a CONNACK refusal) on failure.

    After success the client keeps the connection by itself until disconnect() or close().
    `quick` is accepted for mqtt_as compatibility (there is no Wi-Fi stability wait)."""
    if c._running:
        from .errors import MQTTError

        raise MQTTError("connect() called twice; the client reconnects by itself")
    c._running = True
    try:
        clean_init, clean = c._opts[3], c._opts[2]
        if clean_init and not clean:
            # Start from an empty session, then keep the session from the first outage on
            await _open(c, True, False)
            for task in c._conn_tasks:  # as Link._drop_connection does first
                c._cancel(task)
            c._conn_tasks = ()
            try:
                await c._send(b"\xe0\x00", None)  # DISCONNECT
            finally:
                c._drop_connection()
            await _open(c, False)
        else:
            await _open(c, clean_init)
        c._supervisor = c._spawn(c._keep_connected())  # short of heap: raises here
    except Exception as e:
        c._running = False
        c._drop_connection()
        from .errors import MQTTError, why

        if isinstance(e, MQTTError):
            raise
        msg = "cannot connect to %s:%d: %s" % (c._setup[2], c._setup[3], why(e))
        raise MQTTError(msg) from None


async def _open(c, clean, notify=True):
    """Open one connection and restore the session; raise on any failure."""
    from .codec import CPYTHON, ticks_diff, ticks_ms
    from .wire import wake

    if c._opts[9] is not None:  # link
        await c._opts[9].up()
    if CPYTHON:
        from .cpython import open_connection  # parses in data_received: one loop turn less
    else:
        open_connection = _open_socket  # closes for real, resolves the name once
    reader, writer = await open_connection(c)  # a new TCP (TLS) connection
    try:
        hello = c._setup[0]
        if clean:  # the flags follow the protocol name and level
            hello = bytearray(hello)
            hello[hello.find(b"MQTT\x04") + 5] |= 0x02
        writer.write(hello)
        await _within(c, writer.drain())
        ack = await _within(c, reader.readexactly(4))
        if ack[0] != 0x20 or ack[1] != 2 or ack[3]:
            from .errors import MQTTError, refused

            if ack[0] == 0x20 and ack[1] == 2:
                raise refused(c._setup[2], c._setup[3], ack[3])
            raise MQTTError("broker sent 0x%02x 0x%02x instead of CONNACK" % (ack[0], ack[1]))
    except BaseException:
        try:  # closed for real, as Link._drop_connection closes
            writer.abort() if CPYTHON else writer.s.close()
        except Exception:  # already closed or half-open: the connect's error is what counts
            pass
        raise
    c._writer = writer  # the same object as reader, on both runtimes
    c._last_rx = c._last_tx = c._tx_at = ticks_ms()
    c._ping_at = None
    c._ping_due = False
    c._connected = True
    c._rbuf = b""  # the parser's state (Wire), afresh
    if c._large is not None:  # a large packet cut short by the outage
        c._large = None
    c._acks_due = []
    if CPYTHON:
        reader.start(c)  # from now on the protocol feeds _feed
        c._conn_tasks = (c._spawn(_ping_loop(c)),)
    else:
        task = c._spawn(c._read_loop(reader))
        c._conn_tasks = (task, c._spawn(_ping_loop(c)))
    # The session restore, before anyone is told the link is up
    if c._subs:  # what each was granted on the last connection is reset there (subs.py)
        from . import _rare

        await _rare("subs").resubscribe(c, clean or not ack[2] & 1)
    for rec in sorted(c._inflight.values(), key=lambda r: r[8]):  # same id, DUP (§4.4)
        rec[7][0] |= 0x08  # a message record's header, see session.py
        rec[10] = 0  # re-sends
        rec[9] = ticks_ms()  # sent
        await c._send(rec[7], rec[1])
        rec[9] = ticks_ms()
    c._cancel(c._conn_tasks[-1])  # the supervisor watches from now on
    c._conn_tasks = c._conn_tasks[:-1]
    # One turn, in which the cancelled watchdog ends: its frame would hold this module (and
    # its functions) on the heap after connect() returned, while the application subscribes
    await __import__("asyncio").sleep(0)
    if c._outq:  # after the last await: a task of its own (waiting for a slot must not hold the
        c._spawn(c._flush())  # supervisor), which starts once the link is reported up
    if not c._connected:
        from .errors import MQTTError

        raise MQTTError("link lost while restoring the session")
    if not notify:
        return
    s = c._stats  # see options.py
    s[0] += 1  # connects
    where = "%s:%d" % (c._setup[2], c._setup[3])
    if s[0] > 1:
        s[1] += 1  # reconnects
    if c._down_since is not None:
        away = ticks_diff(ticks_ms(), c._down_since) / 1000
        s[3] += away  # downtime
        c._down_since = None
        c._log("info", "connected to %s, back after %.1f s" % (where, away))
    else:
        c._log("info", "connected to %s" % where)
    c._connected = 2
    wake(c._upq)
    c._notify(True)


async def _ping_loop(c):  # the watchdog while _open restores a session (then: the supervisor)
    import asyncio

    from .codec import CPYTHON, ticks_ms

    try:  # a MemoryError ends it in a fault: with no watchdog the restore could wait for ever
        resp_ms = int(c._opts[12] * 1000)  # response_time
        tick = max(
            20, min(c._opts[13], resp_ms) // 4
        )  # ping interval  # ms: sleep_ms() makes no float
        queued = 0
        while c._connected:
            await (asyncio.sleep(tick / 1000) if CPYTHON else asyncio.sleep_ms(tick))
            if c._connected:
                queued = c._watch(ticks_ms(), resp_ms, queued)
    except MemoryError as e:
        c._fault("keepalive", e)


async def _within(c, aw):
    """aw, or an exception after response_time. MicroPython: OSError from a timer task that
    cancels the caller, as asyncio.wait_for does, without importing asyncio.funcs (0.7 KB of heap
    for good) or running aw in a task of its own."""
    from .codec import CPYTHON

    seconds = c._opts[12]
    if CPYTHON:
        return await __import__("asyncio").wait_for(aw, seconds)
    from asyncio import core

    timer = core.create_task(_expire(core.cur_task, seconds))
    try:
        return await aw
    except core.CancelledError:
        if timer.done():  # it fired: the time is up (else the caller itself was cancelled)
            raise OSError("no answer within %s s" % seconds) from None
        raise
    finally:
        timer.cancel()  # before the caller's next await: it can never fire later


async def disconnect(c):
    """Send DISCONNECT (no will) and close; connect() may be called again afterwards."""
    c._running = False
    c._cancel(c._supervisor)
    for task in c._conn_tasks:  # the broker closes after DISCONNECT: that EOF is no fault
        c._cancel(task)
    c._conn_tasks = ()
    if c._connected:
        try:
            await _within(c, c._send(b"\xe0\x00", None))  # DISCONNECT
        except Exception as e:  # the broker is gone anyway; closing is all that is left
            from .errors import why

            c._log("debug", "DISCONNECT not sent: %s" % why(e))
    c._drop_connection()
    from .wire import wake

    for pid in list(c._waiters):
        wake(c._waiters.pop(pid)[0])
    wake(c._upq)  # requests waiting for a link: they see _running False


def close(c):
    """Close the socket and cancel every task the client started; no DISCONNECT is sent."""
    c._running = False
    # First: the drop wakes publishers waiting for a slot in flight
    for rec in c._outq + (c._slotq or []) + list(c._inflight.values()):
        c._done(rec, False)
    c._outq, c._inflight = [], {}
    if c._slotq:
        c._slotq.clear()
    c._drop_connection()
    for task in list(c._tasks):
        c._cancel(task)
    from .wire import wake

    for pid in list(c._waiters):
        wake(c._waiters.pop(pid)[0])
    wake(c._upq)  # requests waiting for a link: they see _running False


async def broker_up(c):
    """True if the broker answers now: data in the last second, or a PINGRESP in time."""
    import asyncio

    from .codec import ticks_diff, ticks_ms

    if not c._connected:
        return False
    if ticks_diff(ticks_ms(), c._last_rx) < 1000:
        return True
    sent = ticks_ms()
    try:
        await c._send(b"\xc0\x00", None)  # PINGREQ
    except OSError:
        return False
    deadline = c._opts[12] * 1000  # response_time
    while c._connected and ticks_diff(ticks_ms(), sent) < deadline:
        if ticks_diff(c._last_rx, sent) >= 0:
            return True
        await asyncio.sleep(0.05)
    return False


def dprint(c, msg, *args):
    if c.DEBUG:
        print(msg % args if args else msg)


async def _open_socket(client):  # MicroPython: (reader, writer), our mpsock.Stream
    """A new connection; the first write waits for it to complete. asyncio.open_connection
    looks the name up on every call, and getaddrinfo blocks the whole loop there (seconds, when
    DNS is slow): the address is looked up once and kept on the client (which forgets it after
    repeated failures)."""
    import socket

    from .mpsock import Stream

    tls = client._setup[1]
    addr = client._addr
    if addr is None:  # kept: (family, address), a tuple of 2 (32 bytes, 64-bit; all 5: 64)
        addr = socket.getaddrinfo(client._setup[2], client._setup[3], 0, socket.SOCK_STREAM)[0]
        addr = client._addr = (addr[0], addr[-1])
    sock = socket.socket(addr[0], socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        try:
            sock.connect(addr[-1])
        except OSError as e:
            if e.errno != 115 and e.errno != 119:  # EINPROGRESS (Linux, lwIP)
                raise
        try:
            sock.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY: no 40 ms ack stalls
            # TCP_NOTSENT_LOWAT (Linux; lwIP's buffers are small anyway): 16 KiB unsent at most
            sock.setsockopt(6, 25, 16384)
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


async def _expire(task, seconds):
    from asyncio import core

    try:
        await core.sleep(seconds)
    except MemoryError:  # no heap for the float: the time is up now rather than never
        pass
    task.cancel()
