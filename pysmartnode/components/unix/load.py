"""CPU load of the host: the 1, 5 and 15 minute load averages from /proc/loadavg.

Example config (hjson):
    cpu_load: {
        package: .unix.load
        component: CPULoad
        constructor_args: {
            interval_reading: 60   # optional, seconds (ComponentSensor)
            interval_publish: 60   # optional, seconds, >= interval_reading (ComponentSensor)
        }
    }
"""

from pysmartnode.utils.component import ComponentSensor

_TYPES = (("m1", "Load 1 min"), ("m5", "Load 5 min"), ("m15", "Load 15 min"))


class CPULoad(ComponentSensor):
    def __init__(self, name, **kwargs):
        ComponentSensor.__init__(self, name, **kwargs)
        for sensor_type, label in _TYPES:
            self._add_sensor_type(sensor_type, precision=2, state_class="measurement", name=label)

    async def _read(self):
        with open("/proc/loadavg") as f:
            fields = f.read(64).split()  # read() would start with a 256-byte buffer
        for i in range(3):
            self._set_value(_TYPES[i][0], float(fields[i]))
