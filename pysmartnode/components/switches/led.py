"""A dimmable LED on a PWM pin: a Home Assistant `light` with brightness (basic schema).

On/off like every switch (`ON`, `OFF`, `TOGGLE` on `./<name>/set`, state `ON`/`OFF` retained on
`./<name>`); brightness in percent, 1..100, on `./<name>/brightness/set`, retained on
`./<name>/brightness`. A brightness turns the LED on (as Home Assistant's slider expects); 0
turns it off and keeps the last brightness for the next `ON`. With `restore: "restore"` the
brightness is restored too.

Example config (hjson):
    desk_led: {
        package: .switches.led
        component: LED
        constructor_args: {
            pin: 2                 # GPIO number or board pin name of the PWM output
            brightness: 100        # optional, percent at the first ON (1..100)
            freq: 1000             # optional, Hz of the PWM
            active_low: false      # optional: true when the LED lights at 0 V (wired to VCC)
            restore: "restore"     # optional: "restore", "off" or "on" (ComponentSwitch)
            max_on_time: 7200      # optional, seconds: turns itself off (ComponentSwitch)
        }
    }
"""

from pysmartnode.platform import hardware
from pysmartnode.utils.component import ComponentSwitch


def _whole_percent(x):
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 100


class LED(ComponentSwitch):
    def __init__(self, name, pin, brightness=100, freq=1000, active_low=False, **kwargs):
        super().__init__(name, **kwargs)
        if not _whole_percent(brightness) or brightness == 0:
            raise ValueError("brightness must be a whole percent 1..100, got %r" % (brightness,))
        if not isinstance(active_low, bool):
            raise ValueError("active_low must be true or false, got %r" % (active_low,))
        self._brightness = brightness
        self._active_low = active_low
        self._pwm = hardware.pwm(pin, freq, duty_u16=self._duty(0))  # dark from the start

    def brightness(self):
        """The brightness in percent the LED has when on."""
        return self._brightness

    async def set_brightness(self, percent):
        """Sets the brightness (1..100: on at that level, 0: off); True if it switched."""
        if not _whole_percent(percent):
            raise ValueError("brightness must be a whole percent 0..100, got %r" % (percent,))
        if percent == 0:
            return await self.off()
        self._brightness = percent
        return await self.on()

    def _duty(self, percent):  # PWM duty of a brightness
        duty = percent * 65535 // 100
        return 65535 - duty if self._active_low else duty

    async def _on(self):
        self._pwm.duty_u16(self._duty(self._brightness))
        return True

    async def _off(self):
        self._pwm.duty_u16(self._duty(0))
        return True

    def _start(self):
        super()._start()
        self._subscribe(
            self._topic + "/brightness/set",
            self._on_brightness,
            restore_state=self._restore == "restore",
        )

    async def _on_brightness(self, topic, msg, retained):
        try:
            percent = int(msg)
        except ValueError:
            self._log.warning("ignored brightness %.40r: want a whole percent 0..100", msg)
            return
        if not 0 <= percent <= 100 or (retained and percent == 0):
            self._log.warning("ignored brightness %.40r: want a whole percent 0..100", msg)
        elif retained:  # restored: the level for the next ON, and now if already on
            self._brightness = percent
            if self._state:
                await self.on()
        else:
            await self.set_brightness(percent)

    async def _publish_state(self):
        await super()._publish_state()
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
