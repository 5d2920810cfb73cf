"""The subscription registry of the node's MQTT handle (networking/mqtt.py): callbacks per
topic filter, the delivery of each incoming message to them, and one worker that brings the
broker's subscriptions in line with them."""

import asyncio

from mqtt_as.codec import matches

from pysmartnode.platform import const

# The registry (MQTTHandle._subs) is one flat list, three items per subscription: the filter
# (bytes), the callback, and its flags: the qos in the low bits, and these (a list per
# subscription cost 64 B more: its object and its table)
_STRIDE = const(3)
_QOS = const(3)
_JSON = const(4)  # callbacks get the payload parsed as JSON
_RESTORE = const(8)  # a one-shot subscription to a state topic, for its retained value
_SUBSCRIBE_RETRY = 5  # s before asking again for a failed subscription (mqtt_rare.py doubles it)
_MAX_CALLBACK_TASKS = const(16)  # async callbacks running at once; more are dropped and counted


class Subscriptions:
    """The base of MQTTHandle: its subscribe() and unsubscribe(), the delivery of incoming
    messages to the callbacks, and the broker's side.

    12 names (a table of 12 slots; the 13th grows it to 17): what is rarely used is in
    mqtt_rare.py (see __getattr__)."""

    def subscribe(self, topic, callback, qos=1, restore_state=False, parse_json=False):
        """Registers callback(topic, msg, retained) for topic (a filter; `+`/`#` allowed).

        The callback may be a function or a coroutine function; msg is the payload as str, or
        parsed JSON with parse_json (a payload that does not parse is logged and skipped).
        `topic` is in device form (`./x`) when under this node. Several callbacks may share a
        topic. A callback raising is logged; the others still run. For a command topic
        (`.../set`), a callback that returns True has the payload published, retained, to the
        state topic (the topic without `/set`); any other true value is published instead.
        With restore_state, the retained state of a `/set` topic is delivered once at start
        (retained=True), so a switch comes back as it was. Subscribing works before the first
        connect; the handle subscribes at the broker as soon as it can.
        """
        flags = (qos | _JSON) if parse_json else qos
        full = self.topic(topic).encode()
        self._subs.extend([full, callback, flags])  # a list: the table grows by 3 + 4
        self._changed(full)
        if restore_state and full.endswith(b"/set"):
            full = full[:-4]
            self._subs.extend([full, callback, flags | _RESTORE])
            self._changed(full)

    def __getattr__(self, attr):
        # A rarely used method of the handle (unsubscribe(topic, callback=None), deliver(topic,
        # payload), stop, short, device_topic, stats; _subscribed, _raise): a function of
        # mqtt_rare.py, bound to this handle. The module is
        # dropped at once (the function holds what it needs), so the node holds it only while a
        # call runs.
        # And the handle's logger, looked up when it logs: an instance name less (12 slots hold
        # the handle's names with the worker's and the link hooks')
        if attr == "_log":
            from pysmartnode import logging

            return logging.getLogger("mqtt")
        # The defaults of what an instance holds once set (not a slot each in the class's
        # table): the subscription worker while it runs, stop() was called, async callbacks
        # running now, and dropped for too many running
        if attr == "_worker" or attr == "_first":  # _first: MQTTHandle.connect()'s
            return None
        if attr == "_stopping":
            return False
        if attr == "_running" or attr == "callbacks_dropped":
            return 0
        # The hooks' registration, here and not in mqtt_rare.py: start-up registers the status's
        # and discovery's, and a module load each (its table, its functions) failed first near
        # the idle node's edge. on_connect(callback) and on_link(callback) are the lists' append
        if attr == "on_connect":
            return self._hooks.append
        if attr == "_link_hooks":
            return ()  # no on_link callback yet: the list is made at the first
        if attr == "on_link":
            hooks = self._link_hooks
            if hooks == ():
                hooks = self._link_hooks = []
            return hooks.append
        if attr == "off_link":
            hooks = self._link_hooks

            def off_link(callback):
                if callback in hooks:
                    hooks.remove(callback)

            return off_link
        if (" %s " % attr) not in (
            " unsubscribe deliver stop short device_topic stats _subscribed _raise "
        ):
            raise AttributeError(attr)
        from pysmartnode.networking import mqtt_rare
        from pysmartnode.utils import forget

        func = getattr(mqtt_rare, attr)
        forget("pysmartnode.networking.mqtt_rare")
        return lambda *args, **kwargs: func(self, *args, **kwargs)

    def __call__(self, topic, msg=None, retained=None):
        # The client's subs_cb: the handle itself, not a bound method held for good. Its other
        # callbacks are the handle too: wifi_coro(up) goes to _links, log(level, msg) and
        # connect_coro(client) to MQTTHandle._callback. No `try` here (3 words of the frame):
        # under 12 words in all it stays on the C stack, where with one it took 192 B of heap
        # at every message and every log line of the client's (bench/heap_frames.py)
        if retained is not None:
            return self._dispatch(topic, msg, retained)
        if topic is True or topic is False:  # the link is up, or down
            return _links(self, topic)
        return self._callback(topic, msg)

    def _dispatch(self, topic, msg, retained):
        try:
            text = None
            # The matching subscriptions first (a callback may subscribe or unsubscribe): their
            # items only, not a copy of the registry (one block of 8 B per item at every message)
            subs, found = self._subs, []
            for i in range(0, len(subs), _STRIDE):
                if matches(subs[i], topic):
                    found.append(subs[i])
                    found.append(subs[i + 1])
                    found.append(subs[i + 2])
            for i in range(0, len(found), _STRIDE):
                callback, flags = found[i + 1], found[i + 2]
                if flags & _RESTORE:
                    if not retained or not self._end_restore(found[i], callback, flags):
                        continue  # a live message on a state topic is not the one to restore
                if text is None:
                    text = topic.decode()  # in device form, `./x`, under this node
                    if text.startswith(self._prefix):
                        text = "./" + text[len(self._prefix) :]
                    try:
                        payload = msg.decode()
                    except UnicodeError:
                        self._log.warning("ignored a payload on %s: not UTF-8 text", text)
                        return
                value = payload
                if flags & _JSON:
                    import json  # here, not at the top: a slot less in this module's table

                    try:
                        value = json.loads(payload)
                    except Exception:  # ValueError; RecursionError/MemoryError for deep nesting
                        self._log.warning("ignored a payload on %s: not JSON: %.40s", text, payload)
                        continue
                try:
                    result = callback(text, value, retained)
                except Exception as e:  # one broken callback must not stop the others
                    self._log.error("callback for %s raised %s: %s", text, type(e).__name__, e)
                    continue
                if result is not None and hasattr(result, "send"):  # a coroutine on both runtimes
                    if self._running >= _MAX_CALLBACK_TASKS:
                        result.close()
                        self.callbacks_dropped += 1
                        self._log.warning("too many callbacks running: dropped one for %s", text)
                        continue
                    self._running += 1
                    asyncio.create_task(self._await_callback(result, text, payload, retained))
                else:
                    _echo(self, text, payload, retained, result)
        except MemoryError:  # a big payload's text or JSON needs blocks the heap may not have
            self._log.warning(
                "ignored a payload on %s: %d bytes, no heap for it", topic.decode(), len(msg)
            )

    async def _await_callback(self, coro, topic, payload, retained):
        try:
            result = await coro
        except Exception as e:
            self._log.error("callback for %s raised %s: %s", topic, type(e).__name__, e)
            return
        finally:
            self._running -= 1
        _echo(self, topic, payload, retained, result)

    def _changed(self, topic_filter):
        todo = self._todo
        if todo is None:  # none while nothing is to do: no list held at idle
            self._todo = [topic_filter]
        elif topic_filter not in todo:
            todo.append(topic_filter)
        # After the first connect's sync (MQTTHandle._announce) a change starts a worker,
        # unless one runs: one task at a time syncs, and none waits while nothing changes
        if self._synced and self._worker is None and not self._stopping:
            self._worker = asyncio.create_task(self._sync_subscriptions())

    async def _sync_subscriptions(self):
        # The worker: brings the broker in line with the registry, then ends. The client
        # re-subscribes by itself after a reconnect, so this runs only when the registry changes
        try:
            await self._sync_once()
        finally:
            if self._worker is asyncio.current_task():
                self._worker = None

    async def _sync_once(self):
        # One task at a time: the first connect's hook, then a worker (see _changed). Its frame
        # lies under the first connect's subscriptions (the second highest step of its heap):
        # few locals, what follows a refusal or a failure is mqtt_rare.py's (64-bit: 288 B ->
        # 224)
        restoring = []
        while self._todo:
            topic_filter = self._todo.pop(0)
            wanted = None
            for i in range(0, len(self._subs), _STRIDE):
                if self._subs[i] == topic_filter:
                    wanted = max(self._subs[i + 2] & _QOS, wanted or 0)
                    if self._subs[i + 2] & _RESTORE:
                        restoring.append((topic_filter, self._subs[i + 1], self._subs[i + 2]))
            try:
                if wanted is None and topic_filter in self._broker:
                    del self._broker[topic_filter]
                    await self._client.unsubscribe(topic_filter)
                elif wanted is not None and self._broker.get(topic_filter) != wanted:
                    self._broker[topic_filter] = wanted
                    await self._client.subscribe(topic_filter, wanted)
                    # filter bytes -> refusals in a row, while the broker refuses it; made at
                    # the first refusal (MQTTHandle keeps 12 names at most)
                    if getattr(self, "_refused", None):
                        self._subscribed(topic_filter, None)  # logs that it took
            except (OSError, ValueError) as e:  # MQTTSubscribeError, the client closed; a
                self._subscribed(topic_filter, e)  # filter no broker takes: logged, retried
        self._todo = None  # all done: the list (and its table, as long as the most it held) goes
        if restoring:
            asyncio.create_task(self._end_restore_window(restoring))

    async def _end_restore_window(self, entries):
        await asyncio.sleep(1.5)  # seconds a state topic may take to send its retained value
        for entry in entries:  # (filter, callback, flags)
            self._end_restore(*entry)  # still there: no retained state arrived, none to restore
        # Their entries are out: the registry in a list of its size, not with the room they took
        # (a list never gives back its room: 3 switches, 9 items, 96 B for good)
        self._subs = self._subs[:]

    def _end_restore(self, topic_filter, callback, flags):
        # Ends a one-shot subscription; False if it had ended already
        subs = self._subs
        for i in range(0, len(subs), _STRIDE):
            if subs[i] == topic_filter and subs[i + 1] == callback and subs[i + 2] == flags:
                del subs[i : i + _STRIDE]
                self._changed(topic_filter)
                return True
        return False


def _links(handle, up):
    # The link hooks (on_link), told that the link is up or down; one that raises is logged and
    # the others still run. (Not a method: the class's table is full at 12 names)
    hooks = handle._link_hooks  # () till the first on_link (Subscriptions.__getattr__)
    i = 0
    while i < len(hooks):
        try:
            hooks[i](up)
        except Exception as e:
            handle._log.error("link hook raised %s: %s", type(e).__name__, e)
        i += 1


def _echo(handle, topic, payload, retained, result):
    # A command's callback said yes: its payload (True) or its answer goes, retained, to the
    # state topic. (Not a method: the class's table is full at 12 names, the module's has room)
    if result and not retained and topic.endswith("/set"):
        state = payload if result is True else result
        asyncio.create_task(handle.publish(topic[:-4], state, retain=True, qos=1))
