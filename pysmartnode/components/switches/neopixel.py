"""A NeoPixel (WS2812) strip or ring in one colour: a Home Assistant `light` with RGB colour and
brightness (basic schema).

On/off and brightness as every light (ComponentLight: `./<name>/set`, `./<name>/brightness/set`
in percent); the colour on `./<name>/rgb/set` as `r,g,b` (0..255 each, at full brightness),
retained on `./<name>/rgb`. A colour turns the strip on. The strip is written dark when the
node starts (it keeps its last colours across a reset of the board).

Example config (hjson):
    shelf: {
        package: .switches.neopixel
        component: NeoPixel
        constructor_args: {
            pin: 4                 # GPIO number or board pin name of the data line
            count: 8               # optional, number of LEDs (default 1)
            color: [255, 160, 60]  # optional, r, g, b 0..255 at the first ON (default white)
            brightness: 50         # optional, percent at the first ON (ComponentLight)
            restore: "restore"     # optional: "restore", "off" or "on" (ComponentSwitch)
            max_on_time: 14400     # optional, seconds: turns itself off (ComponentSwitch)
        }
    }
"""

from pysmartnode.platform import hardware
from pysmartnode.utils.component import ComponentLight


class NeoPixel(ComponentLight):
    def __init__(self, name, pin, count=1, color=(255, 255, 255), **kwargs):
        super().__init__(name, **kwargs)
        if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= 1024:
            raise ValueError("count must be 1..1024 LEDs, got %r" % (count,))
        self._color = self._check(color)
        self._strip = hardware.neopixel(pin, count)
        self._show((0, 0, 0))  # dark from the start, whatever it showed before a reset

    def color(self):
        """The colour (r, g, b) at full brightness."""
        return self._color

    async def set_color(self, color):
        """Sets the colour (r, g, b 0..255) and turns on; True if it switched.

        Raises ValueError (nothing changes) for a bad colour."""
        self._color = self._check(color)
        return await self.on()

    def _check(self, color):
        if not isinstance(color, (list, tuple)) or len(color) != 3:
            raise ValueError("color must be [r, g, b], got %r" % (color,))
        for c in color:
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= 255:
                raise ValueError("color values are whole numbers 0..255, got %r" % (color,))
        return tuple(color)

    def _show(self, rgb):
        self._strip.fill(rgb)
        self._strip.write()

    async def _on(self):
        b = self._brightness
        self._show(
            (self._color[0] * b // 100, self._color[1] * b // 100, self._color[2] * b // 100)
        )
        return True

    async def _off(self):
        self._show((0, 0, 0))
        return True

    def _start(self):
        super()._start()
        self._subscribe(
            self._topic + "/rgb/set", self._on_rgb, restore_state=self._restore == "restore"
        )

    async def _on_rgb(self, topic, msg, retained):
        try:
            color = self._check([int(c) for c in msg.split(",")])
        except ValueError:
            self._log.warning("ignored colour %.40r: want r,g,b with 0..255 each", msg)
            return
        if retained:  # restored: the colour for the next ON, and now if already on
            self._color = color
            if self._state:
                await self.on()
        else:
            await self.set_color(color)

    async def _publish_state(self):
        await super()._publish_state()
        if self._state is not None:
            try:
                await self._publish(self._topic + "/rgb", "%d,%d,%d" % self._color, True, 1)
            except Exception as e:
                self._log.error("publishing the colour failed: %s", e)

    def discovery_entities(self):
        entities = super().discovery_entities()
        fields = entities[0][2]
        fields["rgb_cmd_t"] = self._topic + "/rgb/set"
        fields["rgb_stat_t"] = self._topic + "/rgb"
        return entities
