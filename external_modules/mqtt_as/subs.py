"""Subscriptions: subscribe, unsubscribe, renew them on each connection, and drop one whose
SUBSCRIBE the broker answers by closing the link. Functions of the client `c`, imported on the
first subscription: a client without any does not pay for this module (nor for a class).

A subscription is [qos, callback or None, pending, deaths]: pending while a SUBSCRIBE carrying
it waits for its SUBACK; deaths counts the connections that died meanwhile, as for a QoS 1
message (session.py). Past max_repubs deaths it is dropped: a filter the broker rejects by
disconnecting (over its packet limit, denied, invalid for it) would be re-sent on every
reconnect, and the client would reconnect for ever.
"""

import asyncio

from . import codec
from .codec import const, ticks_ms
from .session import error
from .topic import check_filter

_QOS = const(0)  # indices of a subscription
_CB = const(1)
_PENDING = const(2)
_DEATHS = const(3)
_POISON = (
    "the subscription to %r: the link died after each of its %d SUBSCRIBEs"
    " (a filter the broker rejects by disconnecting: too long, or denied?)"
)


async def subscribe(c, topic, qos, cb):  # MQTTClient.subscribe
    f = check_filter(topic, c._max_packet)
    if qos not in (0, 1):
        raise ValueError("qos must be 0 or 1, got %r" % (qos,))
    old = c._subs.get(f)
    if old is not None and cb is not None and old[_CB] is not None and old[_CB] is not cb:
        raise ValueError("%r already has a callback; unsubscribe it first" % (topic,))
    if old is not None and cb is None:
        cb = old[_CB]
    sub = old if old is not None and old[_QOS] == qos else [qos, cb, False, 0]
    sub[_CB] = cb
    while True:
        await c._wait_up()
        if sub[_DEATHS] > c._max_repubs:  # lost() dropped it (and logged why)
            from .errors import MQTTSubscribeError

            raise MQTTSubscribeError(_POISON % (f, sub[_DEATHS]))
        c._subs[f] = sub  # from here on, every reconnect re-subscribes it
        done = c._granted.get(f)
        if done is not None and done[0] == qos:
            return done[1]
        codes = await _request(c, ((f, qos),), (sub,))
        if codes is None:
            continue  # link lost before the SUBACK: try again once reconnected
        if codes[0] & 0x80:
            c._subs.pop(f, None)
            from .errors import MQTTSubscribeError

            raise MQTTSubscribeError("broker refused the subscription to %r" % (topic,))
        c._granted[f] = (qos, codes[0])
        return codes[0]


async def unsubscribe(c, topic):  # MQTTClient.unsubscribe
    f = check_filter(topic, c._max_packet, "UNSUBSCRIBE")
    c._subs.pop(f, None)
    c._granted.pop(f, None)
    deaths = 0
    while True:
        await c._wait_up()
        if await _request(c, (f,)) is not None:
            return
        deaths += 1
        if deaths > c._max_repubs:
            raise error("UNSUBSCRIBE of %r: the link died after each of its sends" % (topic,))


async def resubscribe(c, renew):
    """On each new connection, before anyone is told it is up: renew the subscriptions, or
    take the broker's word that it kept them. One whose SUBSCRIBE was never acknowledged
    goes alone, after the others: if the link dies, the one that killed it is known."""
    groups = [[]]
    for f, sub in c._subs.items():
        if sub[_PENDING] or sub[_DEATHS]:
            groups.append([(f, sub)])
        elif renew:
            groups[0].append((f, sub))
        else:  # the broker kept the session and this subscription
            c._granted[f] = (sub[_QOS], sub[_QOS])
    for group in groups:
        if not group:
            continue
        topics = [(f, sub[_QOS]) for f, sub in group]
        codes = await _request(c, topics, [sub for _, sub in group])
        if codes is None or len(codes) != len(topics):
            raise error("no valid SUBACK while re-subscribing")
        for (f, q), code in zip(topics, codes):
            if code & 0x80:
                c._log("error", "broker refused the re-subscription to %r" % (f,))
            else:
                c._granted[f] = (q, code)


def lost(c):
    """The connection died (Session._lost_inflight): a SUBSCRIBE sent on it and never
    acknowledged counts a death for each subscription it carried."""
    for f, sub in list(c._subs.items()):
        if sub[_PENDING]:
            sub[_PENDING] = False
            sub[_DEATHS] += 1
            if sub[_DEATHS] > c._max_repubs:
                del c._subs[f]  # a waiting subscribe() raises when it wakes
                c._log("error", "dropped " + _POISON % (f, sub[_DEATHS]))


async def _request(c, topics, subs=None):
    """Send a SUBSCRIBE of topics ((filter, qos) pairs, for the subscriptions subs) or, with
    no subs, an UNSUBSCRIBE of topics (filters); the ack's codes, or None if the link failed.
    No wait_for (2 tasks per call on MicroPython): the watchdog faults a link whose ack is
    late. No packet-making lambda: its closure cells would be on the heap at the peak."""
    pid = c._next_pid()
    waiter = [asyncio.Event(), None, None]  # the event, the ack's codes, ticks when sent
    c._waiters[pid] = waiter
    make = codec.subscribe if subs is not None else codec.unsubscribe
    for sub in subs or ():
        sub[_PENDING] = True
    try:
        await c._send(make(pid, topics))
        waiter[2] = ticks_ms()
        await waiter[0].wait()
    except OSError:  # a fault, if there was one, counted the deaths already
        for sub in subs or ():
            sub[_PENDING] = False
        return None
    finally:
        c._waiters.pop(pid, None)
    if waiter[1] is None:
        if not c._running:
            raise error("client closed")
    else:
        for sub in subs or ():
            sub[_PENDING] = False
            sub[_DEATHS] = 0
    return waiter[1]
