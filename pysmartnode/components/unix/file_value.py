"""A sensor reading a number from a file: a sysfs attribute, a 1-Wire slave's value, a file
another program writes.

The first word of the file is the value, times `scale` (sysfs often gives milli-units:
`scale: 0.001`). A missing or unreadable file or a word that is no number is a failed reading
(logged once per failure streak, nothing published).

Example config (hjson):
    open_files: {
        package: .unix.file_value
        component: FileValue
        constructor_args: {
            path: "/proc/sys/fs/file-nr"  # the file: here the open file handles of the host
            scale: 1               # optional: the number read is multiplied by it (default 1)
            device_class: null     # optional: an HA sensor device class ("temperature", ...)
            unit: null             # optional: the unit (default: the device class's)
            interval_reading: 30   # optional, seconds (ComponentSensor)
        }
    }
A board temperature from hwmon: `path: "/sys/class/hwmon/hwmon0/temp1_input"`,
`scale: 0.001`, `device_class: "temperature"`.
"""

from pysmartnode.utils.component import ComponentSensor


class FileValue(ComponentSensor):
    def __init__(self, name, path, scale=1, device_class=None, unit=None, **kwargs):
        ComponentSensor.__init__(self, name, **kwargs)
        if not isinstance(path, str) or not path:
            raise ValueError("path must be a file path, got %r" % (path,))
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale == 0:
            raise ValueError("scale must be a number other than 0, got %r" % (scale,))
        self._path = path
        self._scale = scale
        self._add_sensor_type(device_class or "value", unit=unit, device_class=device_class or "",
                              state_class="measurement")  # fmt: skip

    async def _read(self):
        with open(self._path) as f:
            text = f.read(64)  # a sysfs value is short; a big file is not read whole
        words = text.split()
        try:
            value = float(words[0])
        except (IndexError, ValueError):
            raise ValueError("%s holds %.40r, not a number" % (self._path, text.strip())) from None
        for sensor_type in self._types:  # its one type (not kept twice: an attribute less)
            self._set_value(sensor_type, value * self._scale)
