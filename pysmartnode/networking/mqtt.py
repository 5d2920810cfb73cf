"""The node's MQTT handle: device topics, a subscription registry, availability, restore, hooks.

One handle per node, made by pysmartnode.main and reachable as `pysmartnode.node.mqtt`. It wraps
the mqtt_as client (which keeps the connection, re-subscribes and queues by itself) and adds what
a node needs on top. See docs/node.md for the API and its examples.
"""

import asyncio

from mqtt_as import MQTTClient

from pysmartnode import logging
from pysmartnode.networking.mqtt_subs import Subscriptions
from pysmartnode.platform import const

_OOM_RESETS = const(5)  # connect attempts in a row lost to MemoryError: reset (_starved says 5)
_RETRY_FIRST = const(1)  # seconds between first-connect attempts, doubling up to _RETRY_MAX
_RETRY_MAX = const(30)


class MQTTHandle(Subscriptions):
    """The node's connection to the broker.

    Args:
        device_id: this node's id; device topics live under `<home>/<device_id>/`.
        home: the root topic (MQTT_HOME).
        availability: the availability subtopic (MQTT_AVAILABILITY_SUBTOPIC).
        discovery_prefix: Home Assistant's prefix; its `/status` topic triggers the hooks
            when Home Assistant comes online. None: do not listen.
        **client_options: mqtt_as config keys (server, port, user, password, keepalive, ssl...).

    Its rarely used methods (`await stop(timeout=2)`, short, device_topic, stats, unsubscribe,
    deliver) are functions in mqtt_rare.py, loaded for each call (Subscriptions.__getattr__),
    which has on_connect, on_link and off_link too; docs/node.md has them all.
    """

    # 10 names in the class's table (10 slots; the 11th grows it to 12): the defaults of
    # _worker, _stopping, _running and callbacks_dropped are Subscriptions.__getattr__'s

    def __init__(self, device_id, home="home", availability="available", discovery_prefix=None,
                 **client_options):  # fmt: skip
        # 12 instance names at most (a table of 12 slots; the 13th grows it to 17): 10 here, and
        # what is there only in some nodes (`_link_hooks`, `_worker`; `_refused`) is made when
        # first needed; the class's table takes no default for it. The logger is
        # looked up when it logs (Subscriptions.__getattr__)
        self.device_id = device_id
        self._prefix = "%s/%s/" % (home, device_id)
        self.availability_topic = self._prefix + availability
        self._subs = []  # entries [filter bytes, callback, qos, flags], one per subscribe()
        self._broker = {}  # filter bytes -> qos the broker has granted
        self._todo = None  # a list of the filters whose broker state may differ from the registry
        self._hooks = []  # on_connect callbacks
        self._synced = False  # the first connect's sync: None while it runs, True once done
        self.connects = 0
        if discovery_prefix:
            self.subscribe(discovery_prefix + "/status", self._on_homeassistant, qos=0)
        options = {
            "client_id": device_id,
            "will": (self.availability_topic, "offline", True, 1),
            # The handle is all the client's callbacks (Subscriptions.__call__: an incoming
            # message; the others, _callback), no bound method held for each (32 B apiece)
            "subs_cb": self,
            "connect_coro": self,
            "wifi_coro": self,
            "log": self,
            "oom_cb": _starved,
        }
        options.update(client_options)
        self._client = MQTTClient(options)

    async def connect(self):
        """Connects, retrying for ever with a growing pause; returns once connected.

        After this the client keeps the connection by itself.
        """
        # A method (a name of the class's table, which has room), not mqtt_rare.py's: a call of
        # that holds its module, its table and all its functions (~0.5 KB) for as long as it
        # runs, and the first connect is where the idle node's heap is tightest at start-up
        if not self.connects and self._first is None:
            # The first connect's announcement is made now, not at the connect: there the heap
            # is at its most fragmented, and its frame (224 B in one block) failed first at the
            # idle node's edge. The client's connect_coro hands it on (_callback)
            self._first = self._announce("connect", 0)
        delay = _RETRY_FIRST
        while True:
            try:
                await self._client.connect()
                return
            except OSError as e:  # MQTTError and MQTTRefused are OSErrors
                self._log.warning(
                    "broker unreachable: %s; next attempt in %d s", _explained(str(e)), delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX)

    def topic(self, topic):
        """The full topic: `./x` becomes `<home>/<device_id>/x`; others are returned as they are."""
        return self._prefix + topic[2:] if topic[:2] == "./" else topic

    def _on_homeassistant(self, topic, msg, retained):
        # Home Assistant's birth message: it has just started and forgot us. A retained copy
        # is stale and ignored; the random delay spreads the load when many nodes answer
        if msg == "online" and not retained:
            from random import getrandbits

            asyncio.create_task(self._announce("homeassistant", 0.5 + getrandbits(8) / 128))

    def isconnected(self):
        return self._client.isconnected()

    async def _announce(self, reason, delay):
        # Its frame is allocated at every connect, in one block, and lies under the connect
        # hooks (at the first connect, discovery's publication: the node's heap peak): few
        # locals (delay is the hooks' results too), no `for` (an iterator's 4 words held by the
        # frame), two levels of try at most (each 3 words; `except ... as e` is one more), a
        # shallow stack, the random delay (s) made by the caller. A task of its own
        # (_callback), which fails as the client's guard of a callback's coroutine would.
        # 64-bit: 192 B, not 256
        i = 0  # the next hook; -1: none (stopping, or the sync or `online` failed)
        try:
            if delay:
                await asyncio.sleep(delay)
            if self._synced is False:
                # Subscribed before `online`: whoever sees online may send commands at once.
                # Only then changes start a worker, so one task at a time syncs (no
                # asyncio.Lock: 0.6 KiB)
                self._synced = None
                try:
                    await self._sync_once()
                finally:
                    self._synced = True
                    if self._todo:  # cut short (the client closed): the worker takes the rest
                        self._changed(self._todo[0])
            if self._stopping:  # `offline` is out or on its way: no `online` nor hook after it
                i = -1
            else:  # positional: keywords take 2 words each of the frame's stack
                await self.publish(self.availability_topic, "online", True, 1)
        except Exception as e:
            i = -1
            self._client._callback_failed(e)  # logged, counted (stats' callback_errors)
        while 0 <= i < len(self._hooks):
            i += 1
            try:
                delay = self._hooks[i - 1](reason)
                if delay is not None and hasattr(delay, "send"):
                    await delay
            except Exception as e:
                self(e)  # logged by _callback: a call of 3 words' stack, where the log's takes 5
        self._client._tasks.discard(asyncio.current_task())  # as the client's own tasks end

    def _callback(self, arg, msg):
        # The client's log(level, msg) and connect_coro(client) (Subscriptions.__call__ hands
        # them on; wifi_coro(up) goes to mqtt_subs._links), and _announce's (an exception, msg
        # None). Its frame has 11 words at most, so that it stays on the C stack: no `try`, no
        # `for`, few locals (a log line of the client's connect is under it, and with it the
        # node's smallest heap ran out there: bench/heap_frames.py)
        if msg is not None:  # a log line of the client's (arg: its level)
            arg = 10 if arg == "debug" else 40 if arg == "error" else 30 if arg == "warning" else 20
            self._log.log(arg, _explained(msg))
        elif isinstance(arg, Exception):  # a connect hook raised it (_announce)
            self._log.error("connect hook raised %s: %s", type(arg).__name__, arg)
        elif not self._stopping:  # connected (arg: the client)
            # _announce as a task of the client's (close() cancels it), started here: handed
            # back, the client ran it under a guard's frame (192 B, 64-bit), one more under the
            # connect hooks (at the first connect, discovery's publication: the node's heap
            # peak). No frame of this one under them either
            self.connects += 1
            first = self._first  # made by connect()
            if first is not None:
                # None first: a deleted name's value stays in MicroPython's table till the slot
                # is used again, and would keep the coroutine (and its last hook's) for good
                self._first = None
                del self._first
            else:
                first = self._announce("connect" if self.connects == 1 else "reconnect", 0)
            self._client._spawn(first)
        return None

    def publish(self, topic, msg, retain=False, qos=0):
        """Publishes msg (str, bytes; dict, list and tuple as JSON; an object with len() whose
        iteration makes bytes pieces, written piece by piece (mqtt_as chunked payloads);
        others as str()).

        topic may be in device form (`./x`). Waits while offline (in the client's bounded
        queue). Returns True once sent (QoS 0) or acknowledged (QoS 1), False if dropped.
        """
        # Hands back the client's coroutine: no frame of its own on the heap while the client
        # writes (at the first connect every publication's chain of frames is live at once).
        # A bad topic or payload still raises where the coroutine is awaited, as before
        try:
            if isinstance(msg, (dict, list, tuple)):
                import json  # here, not at the top: a slot less in this module's table

                msg = json.dumps(msg)
            elif not isinstance(msg, (str, bytes, bytearray)) and not hasattr(msg, "__iter__"):
                msg = str(msg)
            return self._client.publish(self.topic(topic), msg, retain, qos)
        except Exception as e:
            return self._raise(e)  # mqtt_rare.py's: a coroutine that raises e


def _starved(count):
    # The client's oom_cb: the heap is too full to reconnect. A node living on deaf helps no
    # one (its loop turns, the watchdog is content): reset, with a reason made beforehand and
    # no `from ... import` (it allocates); start-up has loaded the logger
    if count >= _OOM_RESETS:
        logging.logger.fatal("out of memory: 5 connect attempts in a row failed with MemoryError")


def _explained(text):
    # A refused login (CONNACK 4 or 5) names the options to check: the client knows no config
    if text.endswith("(code 4)") or text.endswith("(code 5)"):
        return text + "; check MQTT_USER and MQTT_PASSWORD"
    return text
