"""Subscriptions: subscribe, unsubscribe, renew them on each connection, and drop one whose
SUBSCRIBE the broker answers by closing the link. Functions of the client `c`, reached as
conn.py's are (MQTTClient.__getattr__, conn._open): frozen, imported for each
use and dropped, so a connected client keeps none of them; the deaths a fault counts are
Link._fault's.

A subscription is [qos, callback or None, state, deaths]. Its state: True while a SUBSCRIBE
carrying it waits for its SUBACK (pending); the code the broker granted, once it acknowledged
it on this connection (0 or 1: `is True` tells them apart); None otherwise (no second dict of
granted filters: 48 bytes less a subscription on 64-bit). deaths counts the connections that
died while it was pending, as for a QoS 1 message (session.py). Past max_repubs deaths it is
dropped: a filter the broker rejects by disconnecting (over its packet limit, denied, invalid
for it) would be re-sent on every reconnect, and the client would reconnect for ever.

Few module-level names: the module's dict, made at the first subscribe(), then fits a small
table (no import of a name, no constant in it: subscription indices are literals, commented).
"""

# A subscription's indices: 0 qos, 1 callback, 2 state (True, granted code, None), 3 deaths


async def subscribe(c, topic, qos=0, cb=None):  # MQTTClient.subscribe (__getattr__)
    """Subscribe and wait for the SUBACK; return the granted QoS.

    cb(topic, msg, retained), sync or async, receives the messages matching this filter in
    addition to subs_cb. Raises ValueError for an invalid filter (or one over
    max_packet_size) or a filter that already has another callback, MQTTSubscribeError if
    the broker refuses it, or closed the link after each of max_repubs + 1 SUBSCRIBEs of it.
    The same filter and QoS again on the same connection (mqtt_as applications re-subscribe
    in connect_coro) sends no new SUBSCRIBE, so retained messages are not delivered twice."""
    f = check_filter(topic, c._opts[14], "SUBSCRIBE")  # max_packet_size
    if qos not in (0, 1):
        raise ValueError("qos must be 0 or 1, got %r" % (qos,))
    old = c._subs.get(f)
    if old is not None and cb is not None and old[1] is not None and old[1] is not cb:
        raise ValueError("%r already has a callback; unsubscribe it first" % (topic,))
    if old is not None and cb is None:
        cb = old[1]
    sub = old if old is not None and old[0] == qos else [qos, cb, None, 0]
    sub[1] = cb
    while True:
        await _wait_up(c)
        if sub[3] > c._opts[11]:  # max_repubs; Link._fault dropped it (and said why)
            from .errors import sub_error

            raise sub_error(f, sub[3])
        c._subs[f] = sub  # from here on, every reconnect re-subscribes it
        if sub[2] is not None and sub[2] is not True:
            return sub[2]  # granted on this connection (a subscription's qos never changes)
        codes = await _request(c, ((f, qos),), (sub,))
        if codes is None:
            continue  # link lost before the SUBACK: try again once reconnected
        if codes[0] & 0x80:
            c._subs.pop(f, None)
            from .errors import sub_error

            raise sub_error(topic)
        sub[2] = codes[0]
        return codes[0]


async def _wait_up(c):  # until the link is up (reported), or raise if the client is closed
    from .wire import park

    if not c._running:
        from .errors import MQTTError

        raise MQTTError("not connected: call connect() first")
    while c._connected != 2:  # 2: up
        await park(c._upq)
        if not c._running:
            from .errors import MQTTError

            raise MQTTError("client closed")


async def unsubscribe(c, topic):  # MQTTClient.unsubscribe
    f = check_filter(topic, c._opts[14], "UNSUBSCRIBE")
    c._subs.pop(f, None)
    deaths = 0
    while True:
        await _wait_up(c)
        if await _request(c, (f,), None) is not None:
            return
        deaths += 1
        if deaths > c._opts[11]:  # max_repubs
            from .errors import MQTTError

            raise MQTTError("UNSUBSCRIBE of %r: the link died after each of its sends" % (topic,))


async def resubscribe(c, renew):
    """On each new connection, before anyone is told it is up: renew the subscriptions, or
    take the broker's word that it kept them. One whose SUBSCRIBE was never acknowledged
    goes alone, after the others: if the link dies, the one that killed it is known."""
    groups = [[]]
    for f, sub in c._subs.items():
        if sub[2] is True or sub[3]:
            groups.append([(f, sub)])
        elif renew:
            groups[0].append((f, sub))
        if sub[2] is not True:  # what the last connection granted is not this one's
            sub[2] = None if renew or sub[3] else sub[0]  # kept by the broker: as it was asked
    for group in groups:
        if not group:
            continue
        topics = [(f, sub[0]) for f, sub in group]
        codes = await _request(c, topics, [sub for _, sub in group])
        if codes is None or len(codes) != len(topics):
            from .errors import MQTTError

            raise MQTTError("no valid SUBACK while re-subscribing")
        for (f, sub), code in zip(group, codes):
            if code & 0x80:
                c._log("error", "broker refused the re-subscription to %r" % (f,))
            else:
                sub[2] = code


async def _request(c, topics, subs):  # no default: a function object of 32 bytes, not 64
    """Send a SUBSCRIBE of topics ((filter, qos) pairs, for the subscriptions subs) or, with
    no subs, an UNSUBSCRIBE of topics (filters); the ack's codes, or None if the link failed.
    No wait_for (2 tasks per call on MicroPython): the watchdog faults a link whose ack is
    late. This frame is on the heap at the subscribe peak: few locals, one `try`, no loop;
    the rest is in _open and _close, plain functions."""
    w = _open(c, topics, subs)
    try:
        await c._send(w.pop(), None)  # the packet
        w[2] = c._tx_at  # this packet's write (Wire._send), or a later one's
        if c._waiters.get(w[3]) is w:  # else acked or dropped (and woken) during the write
            from .wire import park

            await park(w[0])
    except OSError:  # a fault, if there was one, counted the deaths already
        return _close(c, w, subs, True)
    except BaseException:  # cancelled: no `as e`, whose clean-up is one more handler here
        c._waiters.pop(w[3], None)
        raise
    return _close(c, w, subs, False)


def _open(c, topics, subs):
    # The waiter [what it parks on (wire.park), the ack's codes, ticks when sent, pid, packet]
    from .wire import waitq

    w = [waitq(), None, None, c._next_pid(None), None]
    c._waiters[w[3]] = w
    for sub in subs or ():
        sub[2] = True  # pending
    w[4] = packet(w[3], topics, subs is not None)
    return w


def _close(c, w, subs, failed):
    c._waiters.pop(w[3], None)
    if failed or w[1] is not None:
        for sub in subs or ():
            sub[2] = None  # not pending (the caller sets the granted code)
            if not failed:
                sub[3] = 0  # deaths
        return None if failed else w[1]
    if not c._running:
        from .errors import MQTTError

        raise MQTTError("client closed")
    return None


def check_filter(topic_filter, limit, kind):  # no defaults: a function object of 32 bytes
    """Return the topic filter as bytes, or raise ValueError if it is not a valid filter or a
    packet `kind` ("SUBSCRIBE" or "UNSUBSCRIBE") of it alone would be over limit > 0 bytes."""
    from .codec import _b, check_size

    f = _b(topic_filter)
    if not f or len(f) > 0xFFFF or b"\x00" in f:
        raise ValueError("topic filter %r must be 1 to 65535 bytes without NUL" % (topic_filter,))
    levels = f.split(b"/")
    last = len(levels) - 1
    for i, level in enumerate(levels):
        if b"#" in level and (level != b"#" or i != last):
            raise ValueError("topic filter %r: '#' must be a whole, final level" % (topic_filter,))
        if b"+" in level and level != b"+":
            raise ValueError("topic filter %r: '+' must be a whole level" % (topic_filter,))
    check_size(kind, len(f) + (5 if kind == "SUBSCRIBE" else 4), limit)  # id, length, QoS
    return f


def packet(pid, topics, subscribe):
    """SUBSCRIBE for [(filter bytes, qos), ...], or UNSUBSCRIBE (subscribe False) for [filter
    bytes, ...]: both carry the fixed flags 0b0010."""
    from .codec import _field, varint

    body = bytearray((pid >> 8, pid & 0xFF))
    for topic in topics:
        body += _field(topic[0] if subscribe else topic)
        if subscribe:
            body.append(topic[1])
    return bytes((0x82 if subscribe else 0xA2,)) + varint(len(body)) + body
