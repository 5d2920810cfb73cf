"""Home Assistant MQTT discovery: the publisher (the payloads: ha_payload.py). Imported only
when discovery is on (MQTT_DISCOVERY_ENABLED).

Config goes out on every connect and 1–5 s after Home Assistant's birth message, then the
states; a removed component is sent as `{"p": platform}`, then omitted.
"""

import asyncio

from pysmartnode import logging
from pysmartnode.platform import collect, const
from pysmartnode.utils.component.ha_payload import Builder

_RESERVE = const(4096)  # bytes kept for the first device payload; then the last one + 512
_PER_COMPONENT = const(768)  # ... and for each component the node is about to build


class Discovery:
    """Publishes the node's discovery on every connect and after Home Assistant's birth
    message, then asks every component for its state (config before state).

    `node.discovery` is this object. Components wait for `wait()` before they publish state.
    """

    def __init__(self, mqtt, builder, providers):
        self._mqtt = mqtt
        self.builder = builder
        self._providers = providers  # a function returning the entity providers
        self._ready = asyncio.Event()
        self._removed = {}  # object_id -> platform, sent once as {"p": platform}
        self._refresh = None
        # A small heap fragments while the node starts: the device payload then finds no
        # block big enough although enough is free. This block, taken while the heap is still
        # whole, is handed back just before the payload is joined, so there is one
        self._reserve = None if builder.per_entity else bytearray(_RESERVE)
        self._keep = _RESERVE
        self._log = logging.getLogger("discovery")
        self.publications = 0
        mqtt.on_connect(self._on_connect)
        mqtt.on_link(self._on_link)

    def expect(self, components):
        """Sizes the reserve for the first payload of a node about to build `components`
        components, while the heap is still whole (a 5 KiB payload found no 5 KiB block in
        40 KiB free once eight components had been built)."""
        if self._reserve is None or self.publications:
            return
        self._reserve = None
        collect()
        try:
            self._reserve = bytearray(_RESERVE + components * _PER_COMPONENT)
        except MemoryError:
            self._reserve = bytearray(_RESERVE)

    async def wait(self):
        """Returns once the discovery config is out on the current connection."""
        if not self._ready.is_set():
            await self._ready.wait()

    def _on_link(self, up):
        if not up:
            self._ready.clear()

    async def _on_connect(self, reason):
        if reason == "homeassistant":
            from random import getrandbits

            # the handle waited 0.5–2.5 s already; together 1–5 s, spread over many nodes
            await asyncio.sleep(0.5 + getrandbits(8) / 128)
        try:
            await self.publish()
        except Exception as e:  # MemoryError making the payload: the states must still go out
            self._log.error("discovery not published: %s: %s", type(e).__name__, e)
        self._ready.set()
        for provider in self._providers():
            if not hasattr(provider, "_publish_state"):
                continue  # a plain object or a service: no state
            try:
                await provider._publish_state()
            except Exception as e:
                self._log.error("state of %s: %s", getattr(provider, "name", "?"), e)

    async def publish(self):
        """Publishes the config (retained, QoS 1); True if the broker took all of it."""
        ok = await self._publish_config(self._removed)
        if ok and self._removed:
            self._removed = {}
            if not self.builder.per_entity:  # sent once as {"p": ...}; from now on omitted
                ok = await self._publish_config(None)
        self.publications += 1
        return ok

    async def _publish_config(self, removed):
        builder = self.builder
        if builder.per_entity:
            payloads = builder.payloads(self._providers(), removed)
        else:
            size = 0  # first pass: the payload's length, each piece dropped once counted
            for piece in builder.device_chunks(self._providers(), removed):
                size += len(piece)
            if self._reserve is not None:  # freed just before the payload is allocated
                self._keep = len(self._reserve)
                self._reserve = None
                collect()  # merge the reserve with its free neighbours
            text = bytearray(size) if size else ""
            at, piece = 0, None  # second pass: the same pieces, copied into the payload
            for piece in builder.device_chunks(self._providers(), removed) if size else ():
                text[at : at + len(piece)] = piece
                at += len(piece)
            del piece
            if at != size:  # a provider's entities changed between the passes
                raise RuntimeError("discovery payload changed while it was built")
            payloads = [(builder.device_topic(), text)]
            self._keep = len(text) + 512  # the next payload is most likely as long
            del text
        for object_id, why in builder.problems:
            self._log.error("%s: %s", object_id, why)
        ok = True
        while payloads:
            topic, payload = payloads.pop(0)  # each payload can go once it is sent
            ok = await self._mqtt.publish(topic, payload, True, 1) and ok
            del payload
        if not builder.per_entity and self._reserve is None:
            try:
                self._reserve = bytearray(self._keep)  # most likely in the payload's block
            except MemoryError:
                self._log.warning("no reserve for the next discovery payload")
        return ok

    def refresh(self):
        """Publishes the config again soon (a component was added, removed or changed)."""
        if self._ready.is_set() and self._refresh is None:
            self._refresh = asyncio.create_task(self._publish_later())

    async def _publish_later(self):
        try:
            await asyncio.sleep(0.1)  # one publication for a burst of changes
            await self.publish()
        except Exception as e:
            self._log.error("publishing discovery failed: %s", e)
        finally:
            self._refresh = None

    def gone(self, entities):
        """Entities ({object_id: platform}) that went away: removed by the next publish()."""
        self._removed.update(entities)

    async def remove(self, component):
        """Removes component's entities from Home Assistant."""
        for object_id, platform, _ in component.discovery_entities():
            self._removed[object_id] = platform
        if self._ready.is_set():
            await self.publish()


def start(mqtt, config, device_id, version, model):
    """Makes the node's Discovery from the settings; returns it."""
    from pysmartnode import node

    builder = Builder(
        device_id,
        config.MQTT_HOME,
        config.MQTT_DISCOVERY_PREFIX,
        mqtt.availability_topic,
        config.DEVICE_NAME,
        model,
        version,
        config.MQTT_DISCOVERY_PER_ENTITY,
    )

    def providers():
        found = [] if node.status is None else [node.status]
        found.extend(node.components.values())
        return found

    return Discovery(mqtt, builder, providers)
