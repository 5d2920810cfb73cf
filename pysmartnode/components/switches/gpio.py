"""A relay (or any on/off load) on a GPIO pin, active-high or active-low.

The pin is an output at the OFF level from its first instruction on, so an active-low relay
board does not click on while the node starts. Restore modes and fail-safes (`max_on_time`,
`offline_off`) are ComponentSwitch's.

Example config (hjson):
    relay: {
        package: .switches.gpio
        component: GPIO
        constructor_args: {
            pin: 5                 # GPIO number or board pin name ("D1")
            active_low: false      # optional: true for relay boards that switch on at 0 V
            restore: "off"         # optional: "restore" (default), "off" or "on" (ComponentSwitch)
            max_on_time: 3600      # optional, seconds: turns itself off (ComponentSwitch)
            offline_off: 600       # optional, seconds without the broker: off (ComponentSwitch)
        }
    }
"""

from pysmartnode.platform import hardware
from pysmartnode.utils.component import ComponentSwitch


class GPIO(ComponentSwitch):
    def __init__(self, name, pin, active_low=False, **kwargs):
        super().__init__(name, **kwargs)
        if not isinstance(active_low, bool):
            raise ValueError("active_low must be true or false, got %r" % (active_low,))
        self._on_level = 0 if active_low else 1
        self._pin = hardware.pin(pin, out=True, value=1 - self._on_level)  # off from the start

    async def _on(self):
        self._pin.value(self._on_level)
        return True

    async def _off(self):
        self._pin.value(1 - self._on_level)
        return True
