"""ComponentLight: a switch with a brightness, Home Assistant's `light` (basic schema). See
docs/components_switches.md."""

from pysmartnode.utils.component.switch import ComponentSwitch


def whole_percent(x):
    """True if x is an int 0..100 (not a bool, not a float)."""
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 100


class ComponentLight(ComponentSwitch):
    """A light: on/off as every switch, plus a brightness in percent.

    Topics: those of ComponentSwitch, plus `./<name>/brightness/set` (1..100: on at that level;
    0: off, the brightness kept for the next ON) and the brightness retained on
    `./<name>/brightness`. With `restore: "restore"` the brightness is restored too.
    Subclasses implement `_on()` (light at `self.brightness()`) and `_off()`.

    Args:
        name: the config key (see ComponentBase).
        brightness: percent at the first ON (1..100, default 100).
        restore, max_on_time, offline_off, discover, friendly_name: see ComponentSwitch.
    """

    def __init__(self, name, brightness=100, **kwargs):
        ComponentSwitch.__init__(self, name, **kwargs)
        if not whole_percent(brightness) or brightness == 0:
            raise ValueError("brightness must be a whole percent 1..100, got %r" % (brightness,))
        self._brightness = brightness

    def brightness(self):
        """The brightness in percent the light has when on."""
        return self._brightness

    async def set_brightness(self, percent):
        """Sets the brightness (1..100: on at that level, 0: off); True if it switched.

        Raises ValueError (nothing changes) unless percent is a whole number 0..100."""
        if not whole_percent(percent):
            raise ValueError("brightness must be a whole percent 0..100, got %r" % (percent,))
        if percent == 0:
            return await self.off()
        self._brightness = percent
        return await self.on()

    def _start(self):
        ComponentSwitch._start(self)
        self._subscribe(
            self._topic + "/brightness/set",
            self._on_brightness,
            restore_state=self._restore == "restore",
        )

    async def _on_brightness(self, topic, msg, retained):
        try:
            percent = int(msg)
        except ValueError:
            percent = -1
        if not 0 <= percent <= 100 or (retained and percent == 0):
            self._log.warning("ignored brightness %.40r: want a whole percent 0..100", msg)
        elif retained:  # restored: the level for the next ON, and now if already on
            self._brightness = percent
            if self._state:
                await self.on()
        else:
            await self.set_brightness(percent)

    async def _publish_state(self):
        await ComponentSwitch._publish_state(self)
        if self._state is not None:
            try:
                await self._publish(self._topic + "/brightness", str(self._brightness), True, 1)
            except Exception as e:
                self._log.error("publishing the brightness failed: %s", e)

    def discovery_entities(self):
        topic = self._topic
        fields = {
            "name": self._entity_name(),
            "stat_t": topic,
            "cmd_t": topic + "/set",
            "bri_stat_t": topic + "/brightness",
            "bri_cmd_t": topic + "/brightness/set",
            "bri_scl": 100,
        }
        return [(self.name, "light", fields)]
