"""ComponentButton: a one-shot action (Home Assistant `button`). See docs/components.md."""

import asyncio

from pysmartnode.utils.component.base import ComponentBase

PAYLOAD_PRESS = "PRESS"


class ComponentButton(ComponentBase):
    """A button: `PRESS` on `./<name>/set` runs the subclass's `async _press()` once.

    A press while the last one still runs is ignored (and logged at debug); other payloads
    are logged and ignored. `_press` raising is logged; the button keeps working. A button
    has no state topic (Home Assistant buttons are stateless).

    Args:
        name: the config key (see ComponentBase).
        device_class: None, "restart", "update" or "identify" (HA button classes).
        entity_category: None, "config" or "diagnostic".
        discover, friendly_name: see ComponentBase.
    """

    def __init__(self, name, device_class=None, entity_category=None, discover=True,
                 friendly_name=None):  # fmt: skip
        ComponentBase.__init__(self, name, discover, friendly_name)
        if device_class not in (None, "restart", "update", "identify"):
            raise ValueError(
                "button device_class must be restart, update or identify, got %r" % (device_class,)
            )
        if entity_category not in (None, "config", "diagnostic"):
            raise ValueError(
                "entity_category must be config or diagnostic, got %r" % (entity_category,)
            )
        self._device_class = device_class
        self._entity_category = entity_category
        self._running = False
        self.presses = 0

    async def press(self):
        """Runs the action now; returns True if it ran and did not raise."""
        if self._running:
            self._log.debug("pressed while running: ignored")
            return False
        self._running = True
        try:
            self._log.info("pressed")
            await self._press()
            self.presses += 1
            return True
        except Exception as e:
            self._log.error("press failed: %s: %s", type(e).__name__, e)
            return False
        finally:
            self._running = False

    async def _press(self):
        """Hook: the action. Must be implemented."""
        raise NotImplementedError("%s has no _press()" % type(self).__name__)

    def _start(self):
        self._subscribe(self._topic + "/set", self._on_command)

    def _on_command(self, topic, msg, retained):
        if retained:
            return  # a stale retained press must not fire at start
        if msg == PAYLOAD_PRESS:
            asyncio.create_task(self.press())
        else:
            self._log.warning("ignored command %.40r: want PRESS", msg)

    def discovery_entities(self):
        fields = {
            "name": self._entity_name(),
            "cmd_t": self._topic + "/set",
            "pl_prs": PAYLOAD_PRESS,
        }
        if self._device_class:
            fields["dev_cla"] = self._device_class
        if self._entity_category:
            fields["ent_cat"] = self._entity_category
        return [(self.name, "button", fields)]
