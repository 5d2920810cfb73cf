"""Subscriptions: subscribe, unsubscribe, renew them on each connection, and drop one whose
SUBSCRIBE the broker answers by closing the link (Subs is the base of MQTTClient).

A subscription is [qos, callback or None, pending, deaths]: pending while a SUBSCRIBE carrying
it waits for its SUBACK; deaths counts the connections that died meanwhile, as for a QoS 1
message (session.py). Past max_repubs deaths it is dropped: a filter the broker rejects by
disconnecting (over its packet limit, denied, invalid for it) would be re-sent on every
reconnect, and the client would reconnect for ever.
"""

import asyncio

from . import codec
from .session import Session, error
from .ticks import const, ticks_ms
from .topic import check_filter

_QOS = const(0)  # indices of a subscription
_CB = const(1)
_PENDING = const(2)
_DEATHS = const(3)


class Subs(Session):
    async def subscribe(self, topic, qos=0, cb=None):
        """Subscribe and wait for the SUBACK; return the granted QoS.

        cb(topic, msg, retained), sync or async, receives the messages matching this filter in
        addition to subs_cb. Raises ValueError for an invalid filter (or one over
        max_packet_size) or a filter that already has another callback, MQTTSubscribeError if
        the broker refuses it, or closed the link after each of max_repubs + 1 SUBSCRIBEs of it.
        The same filter and QoS again on the same connection (mqtt_as applications re-subscribe
        in connect_coro) sends no new SUBSCRIBE, so retained messages are not delivered twice."""
        f = check_filter(topic, self._max_packet)
        if qos not in (0, 1):
            raise ValueError("qos must be 0 or 1, got %r" % (qos,))
        old = self._subs.get(f)
        if old is not None and cb is not None and old[_CB] is not None and old[_CB] is not cb:
            raise ValueError("%r already has a callback; unsubscribe it first" % (topic,))
        if old is not None and cb is None:
            cb = old[_CB]
        sub = old if old is not None and old[_QOS] == qos else [qos, cb, False, 0]
        sub[_CB] = cb
        while True:
            await self._wait_up()
            if sub[_DEATHS] > self._max_repubs:  # _lost_subs dropped it (and logged why)
                from .errors import MQTTSubscribeError

                raise MQTTSubscribeError(_poison(f, sub[_DEATHS]))
            self._subs[f] = sub  # from here on, every reconnect re-subscribes it
            done = self._granted.get(f)
            if done is not None and done[0] == qos:
                return done[1]
            codes = await self._request(lambda pid: codec.subscribe(pid, ((f, qos),)), (sub,))
            if codes is None:
                continue  # link lost before the SUBACK: try again once reconnected
            if codes[0] & 0x80:
                self._subs.pop(f, None)
                from .errors import MQTTSubscribeError

                raise MQTTSubscribeError("broker refused the subscription to %r" % (topic,))
            self._granted[f] = (qos, codes[0])
            return codes[0]

    async def unsubscribe(self, topic):
        """Unsubscribe and wait for the UNSUBACK. Not being subscribed is not an error. Raises
        ValueError for an invalid filter, MQTTError if the link died after each of max_repubs
        + 1 UNSUBSCRIBEs of it (the subscription is forgotten here all the same)."""
        f = check_filter(topic, self._max_packet, "UNSUBSCRIBE")
        self._subs.pop(f, None)
        self._granted.pop(f, None)
        deaths = 0
        while True:
            await self._wait_up()
            if await self._request(lambda pid: codec.unsubscribe(pid, (f,))) is not None:
                return
            deaths += 1
            if deaths > self._max_repubs:
                raise error("UNSUBSCRIBE of %r: the link died after each of its sends" % (topic,))

    async def _resubscribe(self, resubscribe):
        """On each new connection, before anyone is told it is up: renew the subscriptions, or
        take the broker's word that it kept them. One whose SUBSCRIBE was never acknowledged
        goes alone, after the others: if the link dies, the one that killed it is known."""
        self._granted = {}  # filter -> (qos asked, code granted) on this connection
        groups = [[]]
        for f, sub in self._subs.items():
            if sub[_PENDING] or sub[_DEATHS]:
                groups.append([(f, sub)])
            elif resubscribe:
                groups[0].append((f, sub))
            else:  # the broker kept the session and this subscription
                self._granted[f] = (sub[_QOS], sub[_QOS])
        for group in groups:
            if not group:
                continue
            topics = [(f, sub[_QOS]) for f, sub in group]
            codes = await self._request(
                lambda pid, t=topics: codec.subscribe(pid, t), [sub for _, sub in group]
            )
            if codes is None or len(codes) != len(topics):
                raise error("no valid SUBACK while re-subscribing")
            for (f, q), code in zip(topics, codes):
                if code & 0x80:
                    self._log("error", "broker refused the re-subscription to %r" % (f,))
                else:
                    self._granted[f] = (q, code)

    def _lost_subs(self):
        """The connection died (Session._lost_inflight): a SUBSCRIBE sent on it and never
        acknowledged counts a death for each subscription it carried."""
        for f, sub in list(self._subs.items()):
            if sub[_PENDING]:
                sub[_PENDING] = False
                sub[_DEATHS] += 1
                if sub[_DEATHS] > self._max_repubs:
                    del self._subs[f]  # a waiting subscribe() raises when it wakes
                    self._log("error", "dropped " + _poison(f, sub[_DEATHS]))

    async def _wait_up(self):
        if self._running:
            await self._upev.wait()
            if self._running:
                return
            raise error("client closed")
        raise error("not connected: call connect() first")

    async def _request(self, make, subs=()):
        """Send a SUBSCRIBE (for the subscriptions subs) or UNSUBSCRIBE; the ack's codes, or
        None if the link failed. No wait_for (2 tasks per call on MicroPython): the watchdog
        faults a link whose ack is late."""
        pid = self._next_pid()
        waiter = [asyncio.Event(), None, None]  # the event, the ack's codes, ticks when sent
        self._waiters[pid] = waiter
        for sub in subs:
            sub[_PENDING] = True
        try:
            await self._send(make(pid))
            waiter[2] = ticks_ms()
            await waiter[0].wait()
        except OSError:  # a fault, if there was one, counted the deaths already
            for sub in subs:
                sub[_PENDING] = False
            return None
        finally:
            self._waiters.pop(pid, None)
        if waiter[1] is None:
            if not self._running:
                raise error("client closed")
        else:
            for sub in subs:
                sub[_PENDING] = False
                sub[_DEATHS] = 0
        return waiter[1]


def _poison(f, deaths):
    msg = "the subscription to %r: the link died after each of its %d SUBSCRIBEs (a filter the"
    return msg % (f, deaths) + " broker rejects by disconnecting: too long, or denied?)"
