"""Uptime of the host in seconds, from /proc/uptime.

Example config (hjson):
    uptime: {
        package: .unix.uptime
        component: Uptime
        constructor_args: {
            interval_reading: 60   # optional, seconds (ComponentSensor)
        }
    }
"""

from pysmartnode.utils.component import ComponentSensor


class Uptime(ComponentSensor):
    def __init__(self, name, **kwargs):
        ComponentSensor.__init__(self, name, **kwargs)
        # total_increasing: HA treats the drop at a reboot as a new cycle, not as an error
        self._add_sensor_type("duration", unit="s", precision=0, state_class="total_increasing",
                              name="System uptime")  # fmt: skip

    async def _read(self):
        with open("/proc/uptime") as f:
            text = f.read(64)  # two numbers; read() would start with a 256-byte buffer
        self._set_value("duration", float(text.split()[0]))
