"""A binary input on a GPIO (door or window contact, PIR motion, float switch), debounced.

The pin is polled every `poll` seconds; a new level counts once it held for `debounce`
seconds, so contact bounce and a one-poll glitch never reach Home Assistant. `invert` for
inputs that are active low (a contact to ground with the pull-up: closed reads 0).

Example config (hjson):
    front_door: {
        package: .sensors.binary_input
        component: BinaryInput
        constructor_args: {
            pin: 14                 # GPIO of the input
            pull: "up"              # optional: "up", "down" or none (external resistor)
            invert: true            # optional: ON when the pin reads 0, default false
            device_class: "door"    # optional: an HA binary_sensor class (door, motion...)
            debounce: 0.05          # optional, seconds a new level must hold, default 0.05
            poll: 0.01              # optional, seconds between samples, default 0.01
        }
    }
"""

from pysmartnode.platform.hardware import pin as gpio
from pysmartnode.utils.component import ComponentBinarySensor


class BinaryInput(ComponentBinarySensor):
    def __init__(self, name, pin, pull=None, invert=False, debounce=0.05, poll=0.01, **kwargs):
        if not (isinstance(poll, (int, float)) and 0 < poll <= 10):
            raise ValueError("poll must be seconds in (0, 10], got %r" % (poll,))
        if not (isinstance(debounce, (int, float)) and 0 <= debounce <= 60):
            raise ValueError("debounce must be 0 to 60 seconds, got %r" % (debounce,))
        super().__init__(name, interval_reading=poll, **kwargs)
        self._pin = gpio(pin, pull=pull)
        self._invert = bool(invert)
        self._needed = max(1, int(debounce / poll + 0.999))  # samples a new level must hold
        self._candidate = None
        self._count = 0

    async def _read(self):
        level = bool(self._pin.value()) != self._invert
        if level == self._state:
            self._candidate = None
            return
        if level != self._candidate:
            self._candidate, self._count = level, 0
        self._count += 1
        if self._count >= self._needed:
            self._set_state(level)
            self._candidate = None
