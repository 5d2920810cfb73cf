"""The subscription registry of the node's MQTT handle (networking/mqtt.py): callbacks per
topic filter, the delivery of each incoming message to them, and one worker that brings the
broker's subscriptions in line with them."""

import asyncio
import json

from mqtt_as.codec import matches

from pysmartnode.platform import const

# The registry (MQTTHandle._subs) is one flat list, three items per subscription: the filter
# (bytes), the callback, and its flags: the qos in the low bits, and these (a list per
# subscription cost 64 B more: its object and its table)
_STRIDE = const(3)
_QOS = const(3)
_JSON = const(4)  # callbacks get the payload parsed as JSON
_RESTORE = const(8)  # a one-shot subscription to a state topic, for its retained value
_RESTORE_WINDOW = 1.5  # seconds a state topic may take to deliver its retained value after SUBACK
_SUBSCRIBE_RETRY = 5  # seconds before asking again for a refused or failed subscription,
_SUBSCRIBE_RETRY_MAX = const(600)  # doubling after each refusal up to this
_MAX_CALLBACK_TASKS = const(16)  # async callbacks running at once; more are dropped and counted


class Subscriptions:
    """The base of MQTTHandle: its subscribe() and unsubscribe(), the delivery of incoming
    messages to the callbacks, and the broker's side."""

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
        self._add(full, callback, flags)
        if restore_state and full.endswith(b"/set"):
            self._add(full[:-4], callback, flags | _RESTORE)

    def unsubscribe(self, topic, callback=None):
        """Removes the callbacks registered for topic (only callback, if given)."""
        full = self.topic(topic).encode()
        subs = self._subs
        i = 0
        while i < len(subs):
            if subs[i] == full and (callback is None or subs[i + 1] == callback):
                del subs[i : i + _STRIDE]
            else:
                i += _STRIDE
        self._changed(full)

    def _on_message(self, topic, msg, retained):
        try:
            self._dispatch(topic, msg, retained)
        except MemoryError:  # a big payload's text or JSON needs blocks the heap may not have
            self._log.warning(
                "ignored a payload on %s: %d bytes, no heap for it", topic.decode(), len(msg)
            )

    def _dispatch(self, topic, msg, retained):
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
                text = self.short(topic.decode())
                try:
                    payload = msg.decode()
                except UnicodeError:
                    self._log.warning("ignored a payload on %s: not UTF-8 text", text)
                    return
            value = payload
            if flags & _JSON:
                try:
                    value = json.loads(payload)
                except Exception:  # ValueError; RecursionError/MemoryError for deep nesting
                    self._log.warning("ignored a payload on %s: not JSON: %.40s", text, payload)
                    continue
            self._call(callback, text, value, payload, retained)

    def _call(self, callback, topic, value, payload, retained):
        try:
            result = callback(topic, value, retained)
        except Exception as e:  # one broken callback must not stop the others
            self._log.error("callback for %s raised %s: %s", topic, type(e).__name__, e)
            return
        if result is not None and hasattr(result, "send"):  # a coroutine on both runtimes
            if self._running >= _MAX_CALLBACK_TASKS:
                result.close()
                self.callbacks_dropped += 1
                self._log.warning("too many callbacks running: dropped one for %s", topic)
                return
            self._running += 1
            asyncio.create_task(self._await_callback(result, topic, payload, retained))
        else:
            self._echo(topic, payload, retained, result)

    async def _await_callback(self, coro, topic, payload, retained):
        try:
            result = await coro
        except Exception as e:
            self._log.error("callback for %s raised %s: %s", topic, type(e).__name__, e)
            return
        finally:
            self._running -= 1
        self._echo(topic, payload, retained, result)

    def _echo(self, topic, payload, retained, result):
        if result and not retained and topic.endswith("/set"):
            state = payload if result is True else result
            asyncio.create_task(self.publish(topic[:-4], state, retain=True, qos=1))

    def deliver(self, topic, payload):
        """Runs the callbacks registered for topic as if payload had come from the broker (not
        retained); returns how many there were. The HTTP API sends its commands through here,
        so a command over HTTP does exactly what the same command over MQTT does."""
        full = self.topic(topic).encode()
        subs = self._subs
        count = 0
        for i in range(0, len(subs), _STRIDE):
            if not subs[i + 2] & _RESTORE and matches(subs[i], full):
                count += 1
        if count:
            self._on_message(full, payload.encode(), False)
        return count

    def _add(self, topic_filter, callback, flags):
        self._subs.extend([topic_filter, callback, flags])  # a list: the table grows by 3 + 4
        self._changed(topic_filter)

    def _changed(self, topic_filter):
        if topic_filter not in self._todo:
            self._todo.append(topic_filter)
        # After the first connect's sync (MQTTHandle._on_connect) a change starts a worker,
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
        # One task at a time: the first connect's hook, then a worker (see _changed)
        restoring = []
        while self._todo:
            topic_filter = self._todo.pop(0)
            wanted = None
            subs = self._subs
            for i in range(0, len(subs), _STRIDE):
                if subs[i] == topic_filter:
                    flags = subs[i + 2]
                    wanted = max(flags & _QOS, wanted or 0)
                    if flags & _RESTORE:
                        restoring.append((topic_filter, subs[i + 1], flags))
            try:
                if wanted is None and topic_filter in self._broker:
                    del self._broker[topic_filter]
                    await self._client.unsubscribe(topic_filter)
                elif wanted is not None and self._broker.get(topic_filter) != wanted:
                    self._broker[topic_filter] = wanted
                    await self._client.subscribe(topic_filter, wanted)
                    # filter bytes -> refusals in a row, while the broker refuses it; made at
                    # the first refusal (MQTTHandle keeps 12 names at most)
                    refused = getattr(self, "_refused", None)
                    failed = refused.pop(topic_filter, 0) if refused else 0
                    if failed:
                        self._log.info(
                            "subscribed %s after %d failed attempts",
                            topic_filter.decode(),
                            failed,
                        )
            except OSError as e:  # MQTTSubscribeError, or the client closed
                self._broker.pop(topic_filter, None)
                if not hasattr(self, "_refused"):
                    self._refused = {}
                failed = self._refused.get(topic_filter, 0) + 1
                self._refused[topic_filter] = failed
                delay = min(_SUBSCRIBE_RETRY << min(failed - 1, 10), _SUBSCRIBE_RETRY_MAX)
                if failed & (failed - 1) == 0:  # a summary at 1, 2, 4, 8... failures
                    self._log.error(
                        "subscribing %s failed %d time(s), last: %s; next attempt in %d s",
                        topic_filter.decode(), failed, e, delay,
                    )  # fmt: skip
                asyncio.create_task(self._retry(topic_filter, delay))
            except ValueError as e:  # a filter no broker takes: asking again cannot help
                self._broker.pop(topic_filter, None)
                self._log.error("cannot subscribe %s: %s", topic_filter.decode(), e)
        if restoring:
            asyncio.create_task(self._end_restore_window(restoring))

    async def _retry(self, topic_filter, delay):
        await asyncio.sleep(delay)
        self._changed(topic_filter)

    async def _end_restore_window(self, entries):
        await asyncio.sleep(_RESTORE_WINDOW)
        for entry in entries:  # (filter, callback, flags)
            self._end_restore(*entry)  # still there: no retained state arrived, none to restore

    def _end_restore(self, topic_filter, callback, flags):
        # Ends a one-shot subscription; False if it had ended already
        i = _find(self._subs, topic_filter, callback, flags)
        if i < 0:
            return False
        del self._subs[i : i + _STRIDE]
        self._changed(topic_filter)
        return True


def _find(subs, topic_filter, callback, flags):
    # The index of that subscription in the registry, -1 if it is not there. (Not a method:
    # the class's table is full at 17 names, an 18th would grow it by 96 B; the module's has room)
    for i in range(0, len(subs), _STRIDE):
        if subs[i] == topic_filter and subs[i + 1] == callback and subs[i + 2] == flags:
            return i
    return -1
