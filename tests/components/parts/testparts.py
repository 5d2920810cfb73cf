"""Test-only components, copied beside a test node's components.py (device code: CPython and
the MicroPython unix port). The contract suite runs on them too, as a check of itself.

Example config (hjson):
    raiser: {
        package: testparts
        component: Raising
        constructor_args: {
            interval_reading: 1   # optional, seconds (ComponentSensor)
        }
    }
    counter: {
        package: testparts
        component: Counter
        constructor_args: {
            fail_from: -1         # optional: first reading that fails
            fail_to: -1           # optional: first reading that works again
        }
    }
    relay: {
        package: testparts
        component: Relay
        constructor_args: {
            delay: 0              # optional, seconds the relay takes to switch
        }
    }
    bell: {
        package: testparts
        component: Bell
    }
    door: {
        package: testparts
        component: Door
        constructor_args: {
            device_class: "door"  # optional, a binary_sensor device class
            interval_reading: 1   # optional, seconds between polls
        }
    }
"""

import asyncio

from pysmartnode.utils.component import (
    ComponentBinarySensor,
    ComponentButton,
    ComponentSensor,
    ComponentSwitch,
)


class Raising(ComponentSensor):
    """Every reading raises (a broken bus)."""

    def __init__(self, name, **kwargs):
        super().__init__(name, **kwargs)
        self._add_sensor_type("level", state_class="")

    async def _read(self):
        raise OSError("bus error on purpose")


class Counter(ComponentSensor):
    """Counts readings: 0, 1, 2 ...; fails (sets nothing) while `fail_from <= n < fail_to`."""

    def __init__(self, name, fail_from=-1, fail_to=-1, **kwargs):
        super().__init__(name, **kwargs)
        self._add_sensor_type("count", state_class="total_increasing")
        self._add_sensor_type("zero", state_class="")
        self._n = 0
        self._fail = (fail_from, fail_to)

    async def _read(self):
        n = self._n
        self._n += 1
        if self._fail[0] <= n < self._fail[1]:
            return  # sets nothing: a failed reading
        self._set_value("count", n)
        self._set_value("zero", 0)


class Relay(ComponentSwitch):
    """A relay that takes `delay` s to switch; refuses to turn on while `jammed`."""

    def __init__(self, name, delay=0, **kwargs):
        super().__init__(name, **kwargs)
        self._delay = delay
        self.level = 0

    async def _on(self):
        await asyncio.sleep(self._delay)
        self.level = 1
        return True

    async def _off(self):
        await asyncio.sleep(self._delay)
        self.level = 0
        return True


class Bell(ComponentButton):
    async def _press(self):
        self._log.info("ring")


class Door(ComponentBinarySensor):
    """Opens and closes every reading."""

    def __init__(self, name, **kwargs):
        super().__init__(name, **kwargs)
        self._open = False

    async def _read(self):
        self._open = not self._open
        self._set_state(self._open)


def service(greeting="hello"):
    from pysmartnode import logging

    logging.getLogger("service").info("service says %s", greeting)


async def async_service(period=1):
    from pysmartnode import logging

    log = logging.getLogger("async_service")
    n = 0
    while True:
        n += 1
        log.info("tick %d", n)
        await asyncio.sleep(period)


class Uses:
    """A plain class that takes another component by reference."""

    def __init__(self, name, other):
        from pysmartnode import logging

        logging.getLogger(name).info("got %s", other.name)

    def stop(self):
        pass
