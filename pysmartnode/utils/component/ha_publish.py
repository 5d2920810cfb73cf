"""Home Assistant discovery's calls: the publication (the config made by ha_payload.py, sent),
the state pass after it, removals, the per-entity clean-up. Plain functions of the node's
Discovery (discovery.py), which loads this module for each call and drops it at once: the idle
node holds none of this code (~3 KiB of heap on the unix port, frozen).
"""

import asyncio

from pysmartnode import node
from pysmartnode.utils.component import ha_payload


def _on_connect(discovery, reason):
    # The connect hook (reason: "connect", "reconnect" or "homeassistant"): the config, then
    # the states. Returns the coroutine
    return _publish(discovery, reason)


def publish(discovery):
    """Publishes the config (retained, QoS 1) now; True if the broker took all of it."""
    return _publish(discovery, None)


async def _publish(discovery, reason):
    # One coroutine for a publication, its two rounds and the connect's state pass: no
    # helper's frame under the client's while it writes (the first connect's heap peak). A
    # removal goes out once, as {"p": ...}; the second round omits it. A copy: a removal that
    # comes while this one waits for the broker is not what it sent, and stays for the next
    if reason == "homeassistant":
        from random import getrandbits

        # the handle waited 0.5–2.5 s already; together 1–5 s, spread over many nodes
        await asyncio.sleep(0.5 + getrandbits(8) / 128)
    ok = False
    try:
        settings = discovery.settings
        removed = dict(discovery._removed or ())
        while True:
            problems = []
            if settings[-1]:  # per entity
                payloads = ha_payload.payloads(settings, _providers(), removed, problems)
            else:
                # The device payload (5 KiB for a few components) is never whole in RAM: the
                # client writes it piece by piece as _pieces makes them, again for a re-send
                payload = _Payload(discovery, _providers, removed, problems)
                payloads = [(ha_payload.device_topic(settings), payload if len(payload) else "")]
                del payload
            for object_id, why in problems:
                _log(discovery, "error", "%s: %s", object_id, why)
            problems = None
            ok = True
            while payloads:
                topic, payload = payloads.pop(0)  # each payload can go once it is sent
                ok = await node.mqtt.publish(topic, payload, True, 1) and ok
                del payload
            if removed is None or not (ok and removed):
                break
            left = discovery._removed
            for object_id in removed:
                if left.get(object_id) == removed[object_id]:
                    del left[object_id]
            if settings[-1]:
                break
            removed = None
        discovery.publications += 1
    except Exception as e:  # MemoryError making the payload: the states must still go out
        if reason is None:
            raise
        _log(discovery, "error", "discovery not published: %s: %s", type(e).__name__, e)
        if isinstance(e, MemoryError):
            _again(discovery)  # the heap may have room in a moment: tried again (backoff)
    if reason is None:
        return ok
    _ready(discovery)
    if discovery._stale:
        stale, discovery._stale = discovery._stale, None
        for topic in stale:
            await clear_if_stale(discovery, topic)
    # The node's status last: its report, the largest of these publications, is made once
    # the components' states are out, not beside them
    providers = [p for p in node.components.values() if p is not node.status]
    if node.status is not None:
        providers.append(node.status)
    for provider in providers:
        if not hasattr(provider, "_publish_state"):
            continue  # a plain object or a service: no state
        try:
            await provider._publish_state()
        except Exception as e:
            _log(discovery, "error", "state of %s: %s", getattr(provider, "name", "?"), e)


def _ready(discovery):
    gate = discovery._gate
    if gate is False:
        discovery._gate = True
    elif gate is not True:
        gate.set()


def _providers():
    # what discovery announces: the node's status, then its components
    found = [] if node.status is None else [node.status]
    found.extend(node.components.values())
    return found


def _log(discovery, level, msg, *args):
    # the logger "discovery", made once something is logged
    from pysmartnode import logging

    getattr(logging.getLogger("discovery"), level)(msg, *args)


async def clear_if_stale(discovery, topic):
    # Per-entity mode: a retained config of an entity this node no longer has is cleared
    settings = discovery.settings
    topic = node.mqtt.topic(topic)
    for object_id, platform, _ in ha_payload.entities(settings, _providers(), [], True):
        if ha_payload.entity_topic(settings, platform, object_id) == topic:
            return
    _log(discovery, "info", "clearing %s: no such entity on this node now", topic)
    await node.mqtt.publish(topic, "", True, 1)


async def _on_retained(discovery, topic, msg, retained):
    # Per-entity mode: an entity of an earlier run that this one no longer has is cleared
    # (an empty retained config), or Home Assistant keeps it for ever. Live copies of our
    # own configs come back unretained and are ignored.
    if not retained or not msg:
        return
    if not discovery.ready():  # judged once this connection's config is out
        if discovery._stale is None:
            discovery._stale = []
        discovery._stale.append(topic)
        return
    await clear_if_stale(discovery, topic)


def refresh(discovery):
    """Publishes the config again soon (a component was added, removed or changed)."""
    if discovery.ready():
        _again(discovery)


def _again(discovery):
    if discovery._refresh is None:
        discovery._refresh = asyncio.create_task(discovery._later())


def gone(discovery, entities):
    """Entities ({object_id: platform}) that went away: removed by the next publish()."""
    if discovery._removed is None:
        discovery._removed = {}
    discovery._removed.update(entities)


async def remove(discovery, component):
    """Removes component's entities from Home Assistant."""
    gone(discovery, {entry[0]: entry[1] for entry in component.discovery_entities()})
    if discovery.ready():
        await publish(discovery)


class _Payload:
    # The device payload handed to the client (mqtt_as publish(): len() and iteration): sized
    # at once, made again by _pieces at every send, each piece dropped once written

    def __init__(self, discovery, providers, removed, problems):
        self.discovery = discovery
        self.providers = providers  # a function: asked again at every send
        self.removed = removed
        size = 0
        for piece in _pieces(discovery.settings, providers(), removed, problems, None):
            size += len(piece)
        self.size = size

    def __len__(self):
        return self.size

    def __iter__(self):
        settings = self.discovery.settings
        return _pieces(settings, self.providers(), self.removed, [], self)


def _pieces(settings, providers, removed, problems, payload):
    """The device payload (device mode) as JSON bytes pieces, one component at a time: the
    same content as ha_payload.payloads()'s, but the whole dict tree never exists at once, nor
    an entity's config: its fields are written as they are, then ha_payload.extra()'s. Nothing
    when there is nothing to announce (then publish "" to remove the device). payload: the
    _Payload whose size the pieces must make (another publication is asked for if not)."""
    # Every piece is short (an entity's config one key and value per piece, the head in three):
    # at the first connect the idle node's small heap has few free blocks of more than ~100 B
    from json import dumps

    made = 0
    todo = iter(removed.items()) if removed else None  # then, once it is None, the entities
    found = ha_payload.entities(settings, providers, problems, True)
    head = True
    while True:
        entry = None
        if todo is not None:
            entry = next(todo, None)
            if entry is None:
                todo = None
            else:
                object_id, fields, extra = entry[0], {"p": entry[1]}, {}
        if entry is None:
            entry = next(found, None)
            if entry is None:
                break
            object_id, platform, fields = entry
            extra = ha_payload.extra(settings, object_id, platform, fields, problems)
        if head:  # the head in three pieces, none over ~110 bytes
            head = False
            piece = ('{"dev": %s' % dumps(ha_payload.blocks(settings)["dev"])).encode()
            made += len(piece)
            yield piece
            piece = (', "o": %s' % dumps(ha_payload.blocks(settings)["o"])).encode()
            made += len(piece)
            yield piece
            availability = settings[3]  # ha_payload.settings()
            piece = ', "avty_t": %s, "cmps": {%s: {' % (dumps(availability), dumps(object_id))
        else:
            piece = "}, %s: {" % dumps(object_id)
        key = ""  # what goes before the next key and value
        for pairs in (fields, extra):
            for name, value in pairs.items():
                if pairs is fields:  # a field
                    if name in extra:
                        continue  # set or left out by ha_payload.extra()
                    value = ha_payload.value(settings, name, value)
                elif value is None:
                    continue  # a field left out
                piece = piece.encode()
                made += len(piece)
                yield piece
                piece = "%s%s: %s" % (key, dumps(name), dumps(value))
                key = ", "
        piece = piece.encode()
        made += len(piece)
        yield piece
    if not head:
        made += 3
        yield b"}}}"
    if payload is not None and made != payload.size:  # an entity changed since it was sized:
        _again(payload.discovery)  # the client cut or padded this one; the next is right
