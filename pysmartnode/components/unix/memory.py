"""Memory of the host from /proc/meminfo: percent in use and MiB available.

"Available" is the kernel's MemAvailable: what programs can still get without swapping.

Example config (hjson):
    memory: {
        package: .unix.memory
        component: Memory
        constructor_args: {
            interval_reading: 60   # optional, seconds (ComponentSensor)
        }
    }
"""

from pysmartnode.utils.component import ComponentSensor


class Memory(ComponentSensor):
    def __init__(self, name, **kwargs):
        ComponentSensor.__init__(self, name, **kwargs)
        self._add_sensor_type("used", unit="%", precision=1, state_class="measurement",
                              name="Memory used")  # fmt: skip
        self._add_sensor_type("available", unit="MiB", precision=0,
                              device_class="data_size", name="Memory available")  # fmt: skip

    async def _read(self):
        total = available = None
        with open("/proc/meminfo") as f:
            for line in f:  # "MemTotal:       24683664 kB"
                if line.startswith("MemTotal:"):
                    total = int(line.split()[1])
                elif line.startswith("MemAvailable:"):
                    available = int(line.split()[1])
                if total is not None and available is not None:
                    break
        if not total or available is None:
            raise OSError("/proc/meminfo has no MemTotal/MemAvailable")
        self._set_value("used", 100 * (total - available) / total)
        self._set_value("available", available / 1024)
