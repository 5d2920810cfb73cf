"""Home Assistant MQTT discovery: what the node keeps between publications. Imported only when
discovery is on (MQTT_DISCOVERY_ENABLED), by start-up alone.

The node holds a Discovery for its life: its settings, whether the config is out on this
connection, what went away since the last publication. Everything else (the publication, the
payloads, removals, per-entity clean-up) is ha_publish.py's and ha_payload.py's, loaded for each
call and dropped at once from sys.modules, as mqtt_as loads conn.py: a running call holds its
module, the idle node none (~3 KiB of heap on the unix port, frozen).

Config goes out on every connect and 1–5 s after Home Assistant's birth message, then the
states, the status report last; a removed component is sent as `{"p": platform}`, then omitted.
"""


class Discovery:
    """Publishes the node's discovery on every connect and after Home Assistant's birth
    message, then asks every component for its state (config before state), the node's
    status last. `node.discovery` is this object.

    Components wait for `wait()` before they publish state; the status reports only when
    `ready()`. ha_publish.py's calls, made through this object (loaded for the call):
    `publish()` (the config again now; True if the broker took all of it), `refresh()` (soon:
    a component was added, removed or changed), `gone({object_id: platform})` (removed by the
    next publication), `await remove(component)`; `per_entity` says the mode.
    settings: ha_payload.settings()'s tuple.
    """

    def __init__(self, settings):
        # 6 names: the instance's table has 6 slots (a 7th: 8). Nothing else is kept: the
        # handle is node.mqtt, the providers node.status and node.components
        self.settings = settings
        self.publications = 0
        # False, True (the config is out on this connection), or an asyncio.Event once
        # something waited while it was not: on the idle node nothing does (the status asks
        # ready()), and that Event alone loaded asyncio.event there (1.4 KiB, frozen)
        self._gate = False
        self._removed = None  # object_id -> platform, sent once as {"p": platform}
        self._refresh = None  # the task of a publication to come (refresh, retry)
        self._stale = None  # per-entity: retained config topics seen before ours went out

    def ready(self):
        """True once the discovery config is out on the current connection."""
        gate = self._gate
        return gate is True or (gate is not False and gate.is_set())

    async def wait(self):
        """Returns once the discovery config is out on the current connection."""
        gate = self._gate
        if gate is False:
            import asyncio

            gate = self._gate = asyncio.Event()
        if gate is not True:
            await gate.wait()

    def _on_link(self, up):
        if not up:
            gate = self._gate
            if gate is True:
                self._gate = False
            elif gate is not False:
                gate.clear()

    def _on_connect(self, reason):
        # The connect hook: ha_publish's coroutine, handed back (no frame of this one under the
        # publication, the first connect's heap peak)
        return _publication()._on_connect(self, reason)

    async def _later(self):
        # One publication for a burst of changes, 0.1 s after the first. One that found no
        # heap is tried again after 1, 2, 4 ... 60 s while the link is up (the next connect
        # publishes anyway): Home Assistant keeps the last config that went out till then.
        # Here, not in ha_publish: the module is not held while this sleeps
        delay, tries = 100, 0
        try:
            while True:
                import asyncio

                await asyncio.sleep(delay / 1000)
                if tries and not self.ready():
                    return
                tries += 1
                try:
                    await self.publish()
                    break
                except MemoryError:
                    delay = min(max(delay * 2, 1000), 60000)
            if tries > 1:
                self._log("info", "discovery published at try %d", tries)
        except Exception as e:
            self._log("error", "publishing discovery failed: %s", e)
        finally:
            self._refresh = None

    def __getattr__(self, name):
        # The rare calls are ha_publish's: found there for each call, so that no caller holds
        # the module (a callback kept by the handle neither)
        if name == "per_entity":
            return self.settings[-1]
        if name[:2] == "__" or not hasattr(_publication(), name):
            raise AttributeError(name)

        def call(*args):
            return getattr(_publication(), name)(self, *args)

        return call


def _publication():
    # ha_publish, imported for one call and dropped at once from sys.modules and from this
    # package (with ha_payload, which it imports): it lives as long as a function of it runs
    from pysmartnode.utils import forget
    from pysmartnode.utils.component import ha_publish

    forget("pysmartnode.utils.component.ha_publish")
    forget("pysmartnode.utils.component.ha_payload")
    return ha_publish


def start(mqtt, config, device_id, version, model):
    """Makes the node's Discovery from the settings and hooks it to mqtt; returns it."""
    publication = _publication()
    found = Discovery(
        publication.ha_payload.settings(device_id, config.MQTT_HOME,
            config.MQTT_DISCOVERY_PREFIX, mqtt.availability_topic, config.DEVICE_NAME, model,
            version, config.MQTT_DISCOVERY_PER_ENTITY)
    )  # fmt: skip
    mqtt.on_connect(found._on_connect)
    mqtt.on_link(found._on_link)
    if found.per_entity:  # configs an earlier run left retained are read back
        topic = publication.ha_payload.entity_topic(found.settings, "+", "+")
        mqtt.subscribe(topic, found._on_retained)
    return found
