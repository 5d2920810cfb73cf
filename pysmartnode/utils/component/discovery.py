"""Home Assistant MQTT discovery: what the node keeps between publications. Imported only when
discovery is on (MQTT_DISCOVERY_ENABLED), by start-up alone.

The node holds a Discovery for its life: its settings, whether the config is out on this
connection, what went away since the last publication, and the state pass after a connect.
The rest is loaded for each call and dropped at once from sys.modules, as mqtt_as loads conn.py
(a running call holds its module; the idle node none of them): ha_publish.py publishes the
config, ha_payload.py makes it, ha_entity.py has the rarer calls and the per-entity mode.

Config goes out on every connect and 1–5 s after Home Assistant's birth message, then the
states, the status report last; a removed component is sent as `{"p": platform}`, then omitted.
"""

import asyncio

from pysmartnode import logging


class Discovery:
    """Publishes the node's discovery on every connect and after Home Assistant's birth
    message, then asks every component for its state (config before state), the node's
    status last. `node.discovery` is this object; start() makes it.

    Components wait for `wait()` before they publish state; the status reports only when
    `ready()`. `publish()`: the config now (True if the broker took all of it); `refresh()`:
    again soon (a component was added, removed or changed). ha_entity.py's calls, made through
    this object: `gone({object_id: platform})` (removed by the next publication),
    `await remove(component)`. `per_entity` says the mode. A Discovery has len() (a
    publication's payload is one: `__len__`): test the node's with `is None`, not for truth.
    """

    # No __init__ and no defaults here (a function, and slots of this table, held for the
    # node's life): start() sets the instance's 6 names, a table of 6 slots

    def ready(self):
        """True once the discovery config is out on the current connection."""
        gate = self._gate
        return gate is True or (gate is not False and gate.is_set())

    async def wait(self):
        """Returns once the discovery config is out on the current connection."""
        gate = self._gate
        if gate is False:
            gate = self._gate = asyncio.Event()
        if gate is not True:
            await gate.wait()

    def __call__(self, arg):
        # The handle's link hook (arg: up, a bool) and its first connect hook (arg: the reason):
        # itself, as the status is, not a bound method held for each (32 B apiece for good)
        if arg is True or arg is False:
            if not arg:  # the link is down: the config is out on the next connection again
                gate = self._gate
                if gate is True:
                    self._gate = False
                elif gate is not False:
                    gate.clear()
            return None
        # ha_publish's coroutine, handed back (no frame of this one under the publication, the
        # first connect's heap peak). The second connect hook is _states
        try:
            return _load("ha_publish").publication(self, arg)
        except MemoryError as e:  # no heap to load it: as a publication that found none
            logging.getLogger("discovery").error("discovery not published: MemoryError: %s", e)
            self._again()
        return None

    async def _states(self, reason):
        # The second connect hook, once the config is out (or failed: the states still go
        # out). The node's status last: its report, the largest of these publications, is made
        # once the components' states are out, not beside them
        from pysmartnode import node

        gate = self._gate
        if gate is False:
            self._gate = True
        elif gate is not True:
            gate.set()
        if self._stale:
            stale, self._stale = self._stale, None
            for topic in stale:
                await self.clear_if_stale(topic)
        status = node.status
        for provider in [p for p in node.components.values() if p is not status] + [status]:
            if not hasattr(provider, "_publish_state"):
                continue  # a plain object or a service: no state (or no status)
            try:
                await provider._publish_state()
            except Exception as e:
                logging.getLogger("discovery").error("state of %s: %s", provider.name, e)

    def _again(self):
        if self._refresh is None:
            self._refresh = asyncio.create_task(_later(self))

    def __len__(self):
        # A Discovery that ha_publish.publication() makes for a publication is the device
        # payload it hands to the client (mqtt_as's chunked payload: len() and iteration): its
        # class lives anyway, so none is loaded at the first connect's heap peak (a class of its
        # own and its instance were 480 B there). Its own: settings, _removed (what it sends as
        # removed), _size, _made (ha_publish's maker of its pieces). The node's Discovery has
        # no len(): test it with `is None`
        return self._size

    def __iter__(self):
        # the payload's pieces, made again at every send (a QoS 1 re-send too)
        return self._made(self, None)

    def __getattr__(self, name):
        # publish() and refresh() are made here for each call, not methods (a function and a
        # slot of the class's table each, for good: 10 names, a table of 10 slots, full). The rarer
        # calls are ha_entity's: looked up there at each call, so that no caller holds the
        # module (a callback kept by the handle neither)
        if name == "per_entity":
            return self.settings[-1]
        if name == "publish":  # the config (retained, QoS 1) now; True if the broker took all
            return lambda: _load("ha_publish").publication(self, None)
        if name == "refresh":  # the config again soon (a component was added, removed, changed)
            return lambda: self._again() if self.ready() else None
        # decode: the client tells bytes from a payload (a Discovery: __len__) by it
        if name[:2] == "__" or name == "decode" or not hasattr(_load("ha_entity"), name):
            raise AttributeError(name)

        def call(*args):
            return getattr(_load("ha_entity"), name)(self, *args)

        return call


async def _later(discovery):
    # One publication for a burst of changes, 0.1 s after the first. One that found no
    # heap is tried again after 1, 2, 4 ... 60 s while the link is up (the next connect
    # publishes anyway): Home Assistant keeps the last config that went out till then.
    # Here, not in ha_publish: no module is held while this sleeps. Of the module, not a method:
    # the class's table (10 slots) has no room
    delay, tries = 100, 0
    try:
        while True:
            await asyncio.sleep(delay / 1000)
            if tries and not discovery.ready():
                return
            tries += 1
            try:
                await discovery.publish()
                break
            except MemoryError:
                delay = min(max(delay * 2, 1000), 60000)
        if tries > 1:
            logging.getLogger("discovery").info("discovery published at try %d", tries)
    except Exception as e:
        logging.getLogger("discovery").error("publishing discovery failed: %s", e)
    finally:
        discovery._refresh = None


def _load(name):
    # pysmartnode.utils.component.<name>, imported for one call and dropped at once from
    # sys.modules and from its package, with ha_payload (which it imports): it lives as long as
    # a function of it runs
    from pysmartnode.utils import forget, use_once

    module = use_once("pysmartnode.utils.component." + name)
    forget("pysmartnode.utils.component.ha_payload")
    return module


def start(mqtt, config, device_id, version, model):
    """Makes the node's Discovery from the settings and hooks it to mqtt; returns it."""
    calls = _load("ha_entity")
    found = Discovery()
    found.settings = calls.settings(device_id, config.MQTT_HOME, config.MQTT_DISCOVERY_PREFIX,
                                    mqtt.availability_topic, config.DEVICE_NAME, model, version,
                                    config.MQTT_DISCOVERY_PER_ENTITY)  # fmt: skip
    found.publications = 0
    # False, True (the config is out on this connection), or an asyncio.Event once something
    # waited while it was not: on the idle node nothing does (the status asks ready()), and
    # that Event alone loaded asyncio.event there (1.4 KiB of heap for good, frozen)
    found._gate = False
    found._removed = None  # object_id -> platform, sent once as {"p": platform}
    found._refresh = None  # the task of a publication to come (refresh, retry)
    found._stale = None  # per-entity: retained config topics seen before ours went out
    mqtt.on_connect(found)  # __call__(reason): the publication
    mqtt.on_connect(found._states)
    mqtt.on_link(found)  # __call__(up)
    if found.per_entity:  # configs an earlier run left retained are read back
        topic = calls.entity_topic(found.settings, "+", "+")
        mqtt.subscribe(topic, found._on_retained)
    return found
