"""Test-only components for the HTTP tests (device code: CPython and the MicroPython unix port).

Example config (hjson):
    lamp: {package: httpparts, component: Lamp}
    bell: {package: httpparts, component: Bell}
    meter: {package: httpparts, component: Meter, constructor_args: {interval_reading: 1}}
"""

from pysmartnode.utils.component import ComponentButton, ComponentSensor, ComponentSwitch


class Lamp(ComponentSwitch):
    """A switch that switches at once."""

    async def _on(self):
        self._log.debug("relay on")
        return True

    async def _off(self):
        return True


class Bell(ComponentButton):
    async def _press(self):
        self._log.info("ring")


class Meter(ComponentSensor):
    """Two types: count goes 0, 1, 2 ... with each reading; volts stays 3.3."""

    def __init__(self, name, **kwargs):
        super().__init__(name, **kwargs)
        self._add_sensor_type("count", state_class="total_increasing")
        self._add_sensor_type("volts", unit="V", precision=1)
        self._n = 0

    async def _read(self):
        self._set_value("count", self._n)
        self._set_value("volts", 3.3)
        self._n += 1


class Chatter(ComponentButton):
    """Each press logs `lines` lines of `size` characters (a flood for the event-stream tests)."""

    def __init__(self, name, lines=100, size=100, **kwargs):
        super().__init__(name, **kwargs)
        self._lines = lines
        self._text = "x" * size

    async def _press(self):
        for i in range(self._lines):
            self._log.info("%d %s", i, self._text)


class Thermostat(ComponentSwitch):
    """A switch with declared parameters: a number, a select and a text."""

    def __init__(self, name, **kwargs):
        super().__init__(name, **kwargs)
        self._values = {"target": 21.0, "mode": "eco", "label": "hall"}

    async def _on(self):
        return True

    async def _off(self):
        return True

    def parameters(self):
        return [
            {"key": "target", "type": "number", "min": 5, "max": 30, "step": 0.5, "unit": "°C"},
            {"key": "mode", "type": "select", "options": ["eco", "comfort"]},
            {"key": "label", "type": "text"},
        ]

    def get_parameter(self, key):
        return self._values[key]

    def set_parameter(self, key, value):
        self._values[key] = value
        self._log.info("%s = %s", key, value)
