"""CPU temperature of the host in °C, from a sysfs file in millidegrees.

Without `path` it takes the thermal zone whose type names the CPU package (x86_pkg_temp,
cpu-thermal on a Raspberry Pi, ...), else the first zone. A host without one (a VM, a
container) has no reading: each failure streak is logged once, nothing is published.

Example config (hjson):
    cpu_temperature: {
        package: .unix.cpu_temperature
        component: CPUTemperature
        constructor_args: {
            # path: "/sys/class/thermal/thermal_zone0/temp"  # optional: default the CPU's zone
            interval_reading: 30   # optional, seconds (ComponentSensor)
        }
    }
"""

import os

from pysmartnode.utils.component import SENSOR_TEMPERATURE, ComponentSensor

_ZONES = "/sys/class/thermal"
_CPU_WORDS = ("cpu", "pkg", "soc", "core")


def find_zone():
    """The temp file of the CPU's thermal zone, or None when the host has none."""
    try:
        zones = sorted(z for z in os.listdir(_ZONES) if z.startswith("thermal_zone"))
    except OSError:
        return None
    for zone in zones:
        try:
            with open("%s/%s/type" % (_ZONES, zone)) as f:
                kind = f.read().strip().lower()
        except OSError:
            continue
        for word in _CPU_WORDS:
            if word in kind:
                return "%s/%s/temp" % (_ZONES, zone)
    return "%s/%s/temp" % (_ZONES, zones[0]) if zones else None


class CPUTemperature(ComponentSensor):
    def __init__(self, name, path=None, **kwargs):
        ComponentSensor.__init__(self, name, **kwargs)
        self._path = path
        self._add_sensor_type(SENSOR_TEMPERATURE, unit="°C", precision=1, name="CPU temperature")

    async def _read(self):
        if self._path is None:
            self._path = find_zone()
            if self._path is None:
                raise OSError("no CPU temperature: %s has no thermal zone; give `path`" % _ZONES)
        with open(self._path) as f:
            self._set_value(SENSOR_TEMPERATURE, int(f.read()) / 1000)
