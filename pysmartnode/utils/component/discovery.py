"""Home Assistant MQTT discovery: when the config goes out. Imported only when discovery is on
(MQTT_DISCOVERY_ENABLED). What goes out is made and sent by ha_publish.py and ha_payload.py,
loaded for each publication and dropped after it (3 KiB of heap not held between them).

Config goes out on every connect and 1–5 s after Home Assistant's birth message, then the
states, the status report last; a removed component is sent as `{"p": platform}`, then omitted.
"""

import asyncio

from pysmartnode import logging

_PACKAGE = "pysmartnode.utils.component"


class Discovery:
    """Publishes the node's discovery on every connect and after Home Assistant's birth
    message, then asks every component for its state (config before state), the node's
    status last.

    `node.discovery` is this object. Components wait for `wait()` before they publish state;
    the status reports only when `ready()` (the state pass after the config asks for it).
    settings: the ha_payload.Builder's arguments (device_id ... per_entity, in its order).
    """

    def __init__(self, mqtt, settings, providers):
        self._mqtt = mqtt
        self.settings = settings
        self.per_entity = settings[-1]
        self._providers = providers  # a function returning the entity providers
        # A flag; the asyncio.Event only once something waits while it is down: on the idle
        # node nothing does (the status asks ready()), and that Event alone loaded
        # asyncio.event there (1.4 KiB of heap for good, frozen)
        self._ready = False
        self._event = None
        self._removed = {}  # object_id -> platform, sent once as {"p": platform}
        self._refresh = None
        self._log = logging.getLogger("discovery")
        self.publications = 0
        self._stale = None  # per-entity: retained config topics seen before ours went out
        self._busy = 0  # publications running: ha_publish is dropped when none is
        mqtt.on_connect(self._on_connect)
        mqtt.on_link(self._on_link)

    def ready(self):
        """True once the discovery config is out on the current connection."""
        return self._ready

    async def wait(self):
        """Returns once the discovery config is out on the current connection."""
        if not self._ready:
            if self._event is None:
                self._event = asyncio.Event()
            await self._event.wait()

    def _set(self, ready):
        self._ready = ready
        if self._event is None:
            return
        if ready:
            self._event.set()
        else:
            self._event.clear()

    def _on_link(self, up):
        if not up:
            self._set(False)

    async def _on_connect(self, reason):
        if reason == "homeassistant":
            from random import getrandbits

            # the handle waited 0.5–2.5 s already; together 1–5 s, spread over many nodes
            await asyncio.sleep(0.5 + getrandbits(8) / 128)
        try:
            await self.publish()
        except Exception as e:  # MemoryError making the payload: the states must still go out
            self._log.error("discovery not published: %s: %s", type(e).__name__, e)
            if isinstance(e, MemoryError):
                self._again()  # the heap may have room in a moment: tried again (backoff)
        self._set(True)
        if self._stale:
            stale, self._stale = self._stale, None
            for topic in stale:
                await self._run("clear_if_stale", topic)
        from pysmartnode import node

        # The node's status last: its report, the largest of these publications, is made once
        # the components' states are out, not beside them
        providers = [p for p in self._providers() if p is not node.status]
        if node.status is not None:
            providers.append(node.status)
        for provider in providers:
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
        if not self._ready:  # judged once this connection's config is out
            if self._stale is None:
                self._stale = []
            self._stale.append(topic)
            return
        await self._run("clear_if_stale", topic)

    def publish(self):
        """Publishes the config (retained, QoS 1); True if the broker took all of it."""
        return self._run("publish")

    def _run(self, name, *args):
        # The coroutine ha_publish.<name>(self, *args), handed back (no frame of this one on
        # the heap beside it): the module (and ha_payload) is loaded for it and dropped from
        # sys.modules once no publication runs (ha_publish calls _done() when it ends)
        from pysmartnode.utils.component import ha_publish

        self._busy += 1
        return getattr(ha_publish, name)(self, *args)

    def _done(self):
        self._busy -= 1
        if not self._busy:
            _drop()

    def refresh(self):
        """Publishes the config again soon (a component was added, removed or changed)."""
        if self._ready:
            self._again()

    def _again(self):
        if self._refresh is None:
            self._refresh = asyncio.create_task(self._publish_later())

    async def _publish_later(self):
        # One publication for a burst of changes, 0.1 s after the first. One that found no
        # heap is tried again after 1, 2, 4 ... 60 s while the link is up (the next connect
        # publishes anyway): Home Assistant keeps the last config that went out till then
        delay, tries = 100, 0
        try:
            while True:
                await asyncio.sleep(delay / 1000)
                if tries and not self._ready:
                    return
                tries += 1
                try:
                    await self.publish()
                    break
                except MemoryError:
                    delay = min(max(delay * 2, 1000), 60000)
            if tries > 1:
                self._log.info("discovery published at try %d", tries)
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
        if self._ready:
            await self.publish()


def _drop():
    from pysmartnode.utils import forget

    forget(_PACKAGE + ".ha_publish")
    forget(_PACKAGE + ".ha_payload")


def start(mqtt, config, device_id, version, model):
    """Makes the node's Discovery from the settings; returns it."""
    from pysmartnode import node

    settings = (
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

    discovery = Discovery(mqtt, settings, providers)
    if discovery.per_entity:  # configs an earlier run left retained are read back
        from pysmartnode.utils.component.ha_payload import Builder

        topic = Builder(*settings).entity_topic("+", "+")
        _drop()
        mqtt.subscribe(topic, discovery._on_retained)
    return discovery
