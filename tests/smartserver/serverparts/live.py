"""Components for the live-apply tests (device code: CPython and the unix port): a sensor that
publishes a count on ./<name>, and one that never builds (its hardware does not answer)."""

from pysmartnode.utils.component import ComponentSensor


class Ticker(ComponentSensor):
    def __init__(self, name, interval_reading=1, interval_publish=1, **kwargs):
        super().__init__(name, interval_reading, interval_publish, **kwargs)
        self._add_sensor_type("count", state_class="total_increasing")
        self._n = 0

    async def _read(self):
        self._n += 1
        self._set_value("count", self._n)


class Broken:
    def __init__(self, name, pin):
        raise OSError("no sensor answers on pin %d" % pin)
