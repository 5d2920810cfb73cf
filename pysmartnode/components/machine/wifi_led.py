"""A status LED on any pin that blinks the state of the connection to the broker, with the
patterns of the built-in WIFI_LED (networking/wifi_led.py, which does the blinking):

start:            one long flash (0.5 s)
connected:        five quick flashes, then a short double flash every 30 s
disconnected:     three long flashes every 5 s until the broker is back

For a board where WIFI_LED is not set, a second LED, or an LED chosen by a remote config. It
has no Home Assistant entity. stop() ends the blinking and leaves the LED off. Boards (and the
test fakes) only: on Linux it fails at build, as every pin does there.

Example config (hjson):
    status_led: {
        package: .machine.wifi_led
        component: WifiLed
        constructor_args: {
            pin: 2                 # GPIO number or board pin name ("LED" on a Pico W)
            active_high: true      # optional: false if the LED lights when the pin is low
        }
    }
"""

from pysmartnode.platform import hardware
from pysmartnode.utils.component import ComponentBase


class WifiLed(ComponentBase):
    def __init__(self, name, pin, active_high=True, discover=True, friendly_name=None):
        super().__init__(name, discover, friendly_name)
        if not isinstance(active_high, bool):
            raise ValueError("active_high must be true or false, got %r" % (active_high,))
        self._led = hardware.signal(pin, active_high)  # dark from the first instruction
        self._blinker = None

    def _start(self):
        from pysmartnode.networking.wifi_led import WifiLed as Blinker

        self._blinker = Blinker(self._led, self._mqtt)

    def stop(self):
        if self._blinker is not None:
            self._blinker.stop()  # ends its task and turns the LED off
            self._blinker = None
        super().stop()
