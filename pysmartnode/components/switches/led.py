"""A dimmable LED on a PWM pin: a Home Assistant `light` with brightness (basic schema).

On/off like every switch (`ON`, `OFF`, `TOGGLE` on `./<name>/set`, state `ON`/`OFF` retained on
`./<name>`); brightness in percent, 1..100, on `./<name>/brightness/set`, retained on
`./<name>/brightness`. A brightness turns the LED on (as Home Assistant's slider expects); 0
turns it off and keeps the last brightness for the next `ON`. With `restore: "restore"` the
brightness is restored too (ComponentLight).

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
from pysmartnode.utils.component import ComponentLight


class LED(ComponentLight):
    def __init__(self, name, pin, freq=1000, active_low=False, **kwargs):
        super().__init__(name, **kwargs)
        if not isinstance(active_low, bool):
            raise ValueError("active_low must be true or false, got %r" % (active_low,))
        self._active_low = active_low
        self._pwm = hardware.pwm(pin, freq, duty_u16=self._duty(0))  # dark from the start

    def _duty(self, percent):  # PWM duty of a brightness
        duty = percent * 65535 // 100
        return 65535 - duty if self._active_low else duty

    async def _on(self):
        self._pwm.duty_u16(self._duty(self._brightness))
        return True

    async def _off(self):
        self._pwm.duty_u16(self._duty(0))
        return True
