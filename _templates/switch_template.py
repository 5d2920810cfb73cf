"""Switch template: copy this file beside your components.py, rename the class, replace _on()
and _off() with what drives your relay, pump or LED.

It runs as it is: a relay that exists only in memory (it logs each switch), so Home Assistant
shows a switch that answers.

Example config (hjson):
    garden_pump: {
        package: "switch_template"    # this file's name, without .py
        component: MySwitch
        constructor_args: {
            pin: 5                 # optional: the GPIO your relay would be on (unused here)
            restore: "off"         # optional: "restore" (default), "off" or "on" at start
            max_on_time: 600       # optional, seconds: turns itself off after that
            offline_off: 120       # optional, seconds without the broker: turns itself off
        }
    }
"""

from pysmartnode.utils.component import ComponentSwitch


class MySwitch(ComponentSwitch):
    def __init__(self, name, pin=None, **kwargs):
        # kwargs: restore, max_on_time, offline_off, friendly_name... -> the base
        super().__init__(name, **kwargs)
        # Real hardware, e.g.: from pysmartnode.platform import pin; self._pin = pin(pin, "out")
        self._pin = pin
        self._relay = False  # stands in for the hardware's state

    async def _on(self):
        # Switch the hardware on; return True once it is on (False or raise: it is not, the
        # state stays as it was and the base logs why). The base publishes the new state.
        self._relay = True
        self._log.info("relay on (pin %s)", self._pin)
        return True

    async def _off(self):
        self._relay = False
        self._log.info("relay off (pin %s)", self._pin)
        return True
