"""Home Assistant MQTT discovery: the publisher (the payloads: ha_payload.py). Imported only
when discovery is on (MQTT_DISCOVERY_ENABLED).

Config goes out on every connect and 1–5 s after Home Assistant's birth message, then the
states; a removed component is sent as `{"p": platform}`, then omitted.
"""

import asyncio

from pysmartnode import logging
from pysmartnode.utils.component.ha_payload import Builder


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
        self._log = logging.getLogger("discovery")
        self.publications = 0
        self._stale = None  # per-entity: retained config topics seen before ours went out
        mqtt.on_connect(self._on_connect)
        mqtt.on_link(self._on_link)
        if builder.per_entity:  # configs an earlier run left retained are read back
            mqtt.subscribe(builder.entity_topic("+", "+"), self._on_retained)

    def ready(self):
        """True once the discovery config is out on the current connection."""
        return self._ready.is_set()

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
        if self._stale:
            stale, self._stale = self._stale, None
            for topic in stale:
                await self._clear_if_stale(topic)
        for provider in self._providers():
            if not hasattr(provider, "_publish_state"):
                continue  # a plain object or a service: no state
            try:
                await provider._publish_state()
            except Exception as e:
                self._log.error("state of %s: %s", getattr(provider, "name", "?"), e)

    async def _on_retained(self, topic, msg, retained):
        # Per-entity mode: an entity of an earlier run that this one no longer has is cleared
        # (an empty retained config), or Home Assistant keeps it for ever. Live copies of our
        # own configs come back unretained and are ignored.
        if not retained or not msg:
            return
        if not self._ready.is_set():  # judged once this connection's config is out
            if self._stale is None:
                self._stale = []
            self._stale.append(topic)
            return
        await self._clear_if_stale(topic)

    async def _clear_if_stale(self, topic):
        builder = self.builder
        topic = self._mqtt.topic(topic)
        for object_id, platform, _ in builder.entities_iter(self._providers()):
            if builder.entity_topic(platform, object_id) == topic:
                return
        self._log.info("clearing %s: no such entity on this node now", topic)
        await self._mqtt.publish(topic, "", True, 1)

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
            # The device payload (5 KiB for a few components) is never whole in RAM: the client
            # writes it piece by piece as _Payload makes them, again for a re-send
            payload = _Payload(self, removed)
            payloads = [(builder.device_topic(), payload if len(payload) else "")]
            del payload
        for object_id, why in builder.problems:
            self._log.error("%s: %s", object_id, why)
        ok = True
        while payloads:
            topic, payload = payloads.pop(0)  # each payload can go once it is sent
            ok = await self._mqtt.publish(topic, payload, True, 1) and ok
            del payload
        return ok

    def refresh(self):
        """Publishes the config again soon (a component was added, removed or changed)."""
        if self._ready.is_set():
            self._again()

    def _again(self):
        if self._refresh is None:
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


class _Payload:
    """The device payload as the client takes one piece by piece (mqtt_as publish(): len()
    and iteration): the pieces are made from the providers at every send and dropped once
    written, so the whole payload never needs one block of the heap."""

    def __init__(self, discovery, removed):
        self._discovery = discovery
        self._removed = removed  # kept for a re-send; Discovery forgets it by rebinding
        self._size = 0
        for piece in self._pieces():
            self._size += len(piece)

    def _pieces(self):
        discovery = self._discovery
        return discovery.builder.device_chunks(discovery._providers(), self._removed)

    def __len__(self):
        return self._size

    def __iter__(self):
        made = 0
        for piece in self._pieces():
            made += len(piece)
            yield piece
        if made != self._size:  # an entity changed since it was sized: the client cut or
            self._discovery._again()  # padded this one; the next publication is right


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
