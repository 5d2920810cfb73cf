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
    try:
        builder = Builder(*discovery.settings)
        mqtt = discovery._mqtt
        removed = dict(discovery._removed)
        while True:
            if builder.per_entity:
                payloads = builder.payloads(discovery._providers(), removed)
            else:
                # The device payload (5 KiB for a few components) is never whole in RAM: the
                # client writes it piece by piece as Chunks makes them, again for a re-send
                payload = Chunks(builder, discovery._providers, removed, discovery)
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
    finally:
        discovery._done()  # the last publication out drops this module


async def clear_if_stale(discovery, topic):
    # Per-entity mode: a retained config of an entity this node no longer has is cleared
    try:
        builder = Builder(*discovery.settings)
        topic = discovery._mqtt.topic(topic)
        for object_id, platform, _ in builder.entities_iter(discovery._providers()):
            if builder.entity_topic(platform, object_id) == topic:
                return
        discovery._log.info("clearing %s: no such entity on this node now", topic)
        await discovery._mqtt.publish(topic, "", True, 1)
    finally:
        discovery._done()


class Chunks:
    """The device payload (device mode) as JSON bytes pieces, one component at a time: the
    same content as Builder.payloads()[0], but the whole dict tree never exists at once, nor
    an entity's config: its fields are written as they are, then Builder._extra().
    Nothing when there is nothing to announce (then publish "" to remove the device).

    providers: a list, or a function returning one (asked again at every iteration).
    With discovery, this is the payload handed to the client (mqtt_as publish(): len() and
    iteration): sized at once, made again at every send, each piece dropped once written.
    Iterable again and deterministic: the publication iterates it once to size the payload
    and then once for every send. Every piece is short (an entity's config one key and value
    per piece, the head in three) and there are no generators (each one's state is a 200-300 B
    block): at the first connect the idle node's small heap has few holes that large."""

    def __init__(self, builder, providers, removed, discovery=None):
        self._builder = builder
        self._providers = providers
        self._removed = removed or {}  # kept for a re-send: the copy this publication sends
        self._discovery = discovery
        self._size = -1  # sizing: nothing to compare with yet
        if discovery is not None:  # the payload handed to the client: len() and pieces
            size = 0
            for piece in self:
                size += len(piece)
            self._size = size

    def __len__(self):
        return max(self._size, 0)  # 0 while unsized (CPython's join asks for a length hint)

    def __iter__(self):
        self._made = 0
        providers = self._providers
        self._items = iter(self._removed.items())  # then, once it is None, the entities
        self._entities = self._builder.entities_iter(
            providers() if callable(providers) else providers, True
        )
        # 12 attributes in all: the instance's table has 12 slots (a 13th: 17, 272 B)
        self._step = 0  # 0: before the head; 1, 2: its second and third pieces next;
        # 3: entities; 4: done
        self._key = None  # the first entity's id for the head's last piece, then what goes
        # before the next key and value: "" for an entity's first, else ", "
        self._pairs = None  # the current entity's fields, then its extra, as (key, value)
        self._extra = None  # Builder._extra() of the current entity while _pairs are fields
        return self

    def __next__(self):
        try:
            piece = self._next()
        except StopIteration:
            if self._made != self._size >= 0:  # an entity changed since it was sized: the
                self._discovery._again()  # client cut or padded this one; the next is right
            raise
        self._made += len(piece)
        return piece

    def _next(self):
        import json

        step = self._step
        if step == 1 or step == 2:  # the head's rest in two pieces, none over ~110 bytes
            self._step = step + 1
            blocks = self._builder._blocks()
            if step == 1:
                return (', "o": %s' % json.dumps(blocks["o"])).encode()
            first, self._key = self._key, ""
            return (', "avty_t": %s, "cmps": {%s: {' % (
                json.dumps(blocks["avty_t"]), json.dumps(first)
            )).encode()  # fmt: skip
        while self._pairs is not None:  # the entity's fields, then what the builder adds
            extra = self._extra
            for key, value in self._pairs:
                if extra is not None:  # a field
                    if key in extra:
                        continue  # set or left out by the builder
                    value = self._builder._value(key, value)
                elif value is None:
                    continue  # a field left out
                piece = "%s%s: %s" % (self._key, json.dumps(key), json.dumps(value))
                self._key = ", "
                return piece.encode()
            if extra is not None:
                self._pairs = iter(extra.items())
                self._extra = None
            else:
                self._pairs = None
        if self._step == 4:
            raise StopIteration
        entry = None
        if self._items is not None:
            try:
                entry = next(self._items)
                object_id, fields, extra = entry[0], {"p": entry[1]}, {}
            except StopIteration:
                self._items = None
        if entry is None:
            try:
                object_id, platform, fields = next(self._entities)
            except StopIteration:
                if self._step == 0:  # nothing to announce
                    raise
                self._step = 4
                return b"}}}"
            extra = self._builder._extra(object_id, platform, fields)
        self._pairs = iter(fields.items())
        self._extra = extra
        self._key = ""
        if self._step == 0:
            self._step = 1
            self._key = object_id
            return ('{"dev": %s' % json.dumps(self._builder._blocks()["dev"])).encode()
        return ("}, %s: {" % json.dumps(object_id)).encode()
