"""Home Assistant discovery's publication: the config made (ha_payload.py) and sent. Loaded by
discovery.py for a publication and dropped from sys.modules once none runs, so the idle node
does not hold this code and the Builder's (3 KiB of heap on the unix port, frozen) between
publications.
"""

from pysmartnode.utils.component.ha_payload import Builder


async def publish(discovery):
    """Publishes the config (retained, QoS 1); True if the broker took all of it."""
    # One coroutine for both rounds (no helper's frame held while the client writes): a
    # removal goes out once, as {"p": ...}; the second round omits it. A copy: a removal that
    # comes while this one waits for the broker is not what it sent, and stays for the next
    builder = Builder(*discovery.settings)
    mqtt = discovery._mqtt
    removed = dict(discovery._removed)
    while True:
        if builder.per_entity:
            payloads = builder.payloads(discovery._providers(), removed)
        else:
            # The device payload (5 KiB for a few components) is never whole in RAM: the
            # client writes it piece by piece as _Payload makes them, again for a re-send
            payload = _Payload(discovery, builder, removed)
            payloads = [(builder.device_topic(), payload if len(payload) else "")]
            del payload
        for object_id, why in builder.problems:
            discovery._log.error("%s: %s", object_id, why)
        ok = True
        while payloads:
            topic, payload = payloads.pop(0)  # each payload can go once it is sent
            ok = await mqtt.publish(topic, payload, True, 1) and ok
            del payload
        if removed is None or not (ok and removed):
            break
        left = discovery._removed
        for object_id in removed:
            if left.get(object_id) == removed[object_id]:
                del left[object_id]
        if builder.per_entity:
            break
        removed = None
    discovery.publications += 1
    return ok


async def clear_if_stale(discovery, topic):
    # Per-entity mode: a retained config of an entity this node no longer has is cleared
    builder = Builder(*discovery.settings)
    topic = discovery._mqtt.topic(topic)
    for object_id, platform, _ in builder.entities_iter(discovery._providers()):
        if builder.entity_topic(platform, object_id) == topic:
            return
    discovery._log.info("clearing %s: no such entity on this node now", topic)
    await discovery._mqtt.publish(topic, "", True, 1)


class _Payload:
    """The device payload as the client takes one piece by piece (mqtt_as publish(): len()
    and iteration): the pieces are made from the providers at every send and dropped once
    written, so the whole payload never needs one block of the heap."""

    def __init__(self, discovery, builder, removed):
        self._discovery = discovery
        self._builder = builder
        self._removed = removed  # kept for a re-send: the copy this publication sends
        self._size = 0
        for piece in builder.device_chunks(discovery._providers(), removed):
            self._size += len(piece)

    def __len__(self):
        return self._size

    def __iter__(self):
        made = 0
        for piece in self._builder.device_chunks(self._discovery._providers(), self._removed):
            made += len(piece)
            yield piece
        if made != self._size:  # an entity changed since it was sized: the client cut or
            self._discovery._again()  # padded this one; the next publication is right
