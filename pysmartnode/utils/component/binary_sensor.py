"""ComponentBinarySensor: an ON/OFF state (Home Assistant `binary_sensor`). See
docs/components.md."""

import asyncio

from pysmartnode.utils.component.base import ComponentBase


class ComponentBinarySensor(ComponentBase):
    """A binary sensor: the subclass reports True/False, the base publishes `ON`/`OFF`.

    Two ways to feed it: call `_set_state(value)` whenever the input changes (from a pin
    interrupt's scheduled task, a callback...), and/or implement `async _read()` (which calls
    `_set_state`) and give `interval_reading` for polling. The state is published retained on
    `./<name>` on every change and after discovery on every connect.

    Args:
        name: the config key (see ComponentBase).
        device_class: an HA binary_sensor class (BINARY_MOTION, BINARY_DOOR...), or None.
        interval_reading: seconds between polls of `_read()`; -1 (default): no polling.
        entity_category: None or "diagnostic".
        discover, friendly_name: see ComponentBase.

    Events: `getStateChangeEvent()` is set on every change (the consumer clears it).
    """

    def __init__(self, name, device_class=None, interval_reading=-1, entity_category=None,
                 discover=True, friendly_name=None):  # fmt: skip
        ComponentBase.__init__(self, name, discover, friendly_name)
        if device_class is not None:
            from pysmartnode.utils.component.definitions import is_binary_class

            if not is_binary_class(device_class):
                raise ValueError("%r is not a binary_sensor device class" % (device_class,))
        if (
            isinstance(interval_reading, bool)
            or not isinstance(interval_reading, (int, float))
            or (interval_reading <= 0 and interval_reading != -1)
        ):
            raise ValueError(
                "interval_reading must be seconds > 0 or -1, got %r" % (interval_reading,)
            )
        if entity_category not in (None, "diagnostic"):
            raise ValueError(
                "entity_category must be None or diagnostic, got %r" % (entity_category,)
            )
        self._device_class = device_class
        self._interval_reading = interval_reading
        self._entity_category = entity_category
        self._state = None
        self._event = asyncio.Event()
        self._failing = False

    def state(self):
        """True, False, or None before the first value."""
        return self._state

    def topic(self):
        """The state topic (device form)."""
        return self._topic

    def getStateChangeEvent(self):
        """An asyncio.Event set on every change (the consumer clears it)."""
        return self._event

    def _set_state(self, value):
        """Sets the state (anything true is ON); publishes it if it changed."""
        value = bool(value)
        if value == self._state:
            return
        self._state = value
        self._event.set()
        if self._mqtt is not None and not self._waits_for_discovery():
            asyncio.create_task(self._publish_state())  # else discovery's state pass sends it

    async def _read(self):
        """Hook for polling: read the input and call _set_state."""
        raise NotImplementedError("%s has no _read()" % type(self).__name__)

    def _start(self):
        if self._interval_reading > 0:
            self._spawn(self._poll)

    async def _poll(self):
        while True:
            try:
                await self._read()
                if self._failing:
                    self._failing = False
                    self._log.info("reading again")
            except Exception as e:
                if not self._failing:
                    self._failing = True
                    self._log.error("reading failed: %s: %s", type(e).__name__, e)
            await asyncio.sleep(self._interval_reading)

    async def _publish_state(self):
        if self._state is None:
            return
        try:
            await self._publish(self._topic, "ON" if self._state else "OFF", True, 1)
        except Exception as e:
            self._log.error("publishing the state failed: %s", e)

    def discovery_entities(self):
        fields = {"name": self._entity_name(), "stat_t": self._topic}
        if self._device_class:
            fields["dev_cla"] = self._device_class
        if self._entity_category:
            fields["ent_cat"] = self._entity_category
        return [(self.name, "binary_sensor", fields)]
