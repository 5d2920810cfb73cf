"""The rarely used methods of the node's MQTT handle (networking/mqtt.py, mqtt_subs.py): shutdown,
counters, unsubscribing, HTTP's delivery, a refused subscription's retry, a
publication that cannot be sent. (Start-up's calls are the handle's own: `connect` a method,
on_connect, on_link and off_link Subscriptions.__getattr__'s.)

Functions of the handle, not methods: `Subscriptions.__getattr__` loads this module for each
call and drops it at once, so the idle node holds none of them (a function is 32 bytes of heap
for as long as its class lives, and each name a slot of the class's table). What runs at the
first connect (the heap's peak) stays in the classes.
"""

from pysmartnode.platform import const

# 12 names in this module with __name__ and __file__: its table has 12 slots (192 B), which each
# call's load needs in one block (a 13th name: 17 slots). So the imports are the functions' own

_STRIDE = const(3)  # as in mqtt_subs.py: the registry's items per subscription
_RESTORE = const(8)  # mqtt_subs.py's flag of a one-shot restore subscription
_SUBSCRIBE_RETRY_MAX = const(600)  # s: a failed subscription's retry doubles up to this


async def stop(handle, timeout=2):
    """Publishes `offline`, then disconnects; no `online` or connect hook after it."""
    # A clean disconnect sends no will: DISCONNECT only once the broker acknowledged
    # `offline`. Else (no link, a connect cut short, no answer in timeout seconds) close
    # the connection: the broker then publishes the will, `offline`
    import asyncio

    handle._stopping = True
    if handle._first is not None:  # connect()'s announcement, not taken: never run
        handle._first.close()
        handle._first = None  # as MQTTHandle._callback: no value left in the table's slot
        del handle._first
    if handle._worker is not None:
        handle._worker.cancel()
        handle._worker = None
    client = handle._client
    said = False
    if client.isconnected():
        try:
            said = await asyncio.wait_for(
                client.publish(handle.availability_topic, "offline", True, 1), timeout
            )
        except (OSError, asyncio.TimeoutError):
            pass
    if said:
        await client.disconnect()
    client.close()


def short(handle, topic):
    """The device form of a full topic: `<home>/<device_id>/x` becomes `./x`."""
    prefix = handle._prefix
    return "./" + topic[len(prefix) :] if topic.startswith(prefix) else topic


def device_topic(handle, name, is_request=False):
    """`./name`, or the command topic `./name/set` if is_request."""
    return ("./%s/set" if is_request else "./%s") % name


def stats(handle):
    """The client's counters (connects, reconnects, dropped, downtime...)."""
    return handle._client.stats()


def unsubscribe(handle, topic, callback=None):
    """Removes the callbacks registered for topic (only callback, if given)."""
    full = handle.topic(topic).encode()
    subs = handle._subs
    i = 0
    while i < len(subs):
        if subs[i] == full and (callback is None or subs[i + 1] == callback):
            del subs[i : i + _STRIDE]
        else:
            i += _STRIDE
    handle._changed(full)


def deliver(handle, topic, payload):
    """Runs the callbacks registered for topic as if payload had come from the broker (not
    retained); returns how many there were. The HTTP API sends its commands through here,
    so a command over HTTP does exactly what the same command over MQTT does."""
    from mqtt_as.codec import matches

    full = handle.topic(topic).encode()
    subs = handle._subs
    count = 0
    for i in range(0, len(subs), _STRIDE):
        if not subs[i + 2] & _RESTORE and matches(subs[i], full):
            count += 1
    if count:
        handle(full, payload.encode(), False)  # as an incoming message
    return count


def _subscribed(handle, topic_filter, e):
    """What follows a subscription at the broker (mqtt_subs.py's _sync_once) but a plain
    success: e None, it took after refusals (logged); e an OSError (MQTTSubscribeError, the
    client closed), asked again after 5, 10, 20 ... 600 s, a summary logged at 1, 2, 4, 8...
    failures; e a ValueError (a filter no broker takes), logged, never asked again."""
    import asyncio

    from pysmartnode.networking.mqtt_subs import _SUBSCRIBE_RETRY

    if e is None:
        failed = handle._refused.pop(topic_filter, 0)
        if failed:
            handle._log.info(
                "subscribed %s after %d failed attempts", topic_filter.decode(), failed
            )
        return
    handle._broker.pop(topic_filter, None)
    if isinstance(e, ValueError):  # asking again cannot help
        handle._log.error("cannot subscribe %s: %s", topic_filter.decode(), e)
        return
    if not hasattr(handle, "_refused"):
        handle._refused = {}
    failed = handle._refused.get(topic_filter, 0) + 1
    handle._refused[topic_filter] = failed
    delay = min(_SUBSCRIBE_RETRY << min(failed - 1, 10), _SUBSCRIBE_RETRY_MAX)
    if failed & (failed - 1) == 0:  # a summary at 1, 2, 4, 8... failures
        handle._log.error(
            "subscribing %s failed %d time(s), last: %s; next attempt in %d s",
            topic_filter.decode(), failed, e, delay,
        )  # fmt: skip
    asyncio.create_task(_retry(handle, topic_filter, delay))


async def _retry(handle, topic_filter, delay):
    import asyncio

    await asyncio.sleep(delay)
    handle._changed(topic_filter)


async def _raise(handle, e):
    # publish()'s answer to a topic or payload it cannot send: raises where it is awaited
    raise e
