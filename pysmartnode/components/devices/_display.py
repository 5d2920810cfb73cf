"""The text lines the display components (ssd1306, lcd1602) show: their `sensors`,
`sensor_types` and `labels` arguments checked into lines, and each line's `<label> <value>`.

Shared by several components: tools/mip_package.py puts a `_`-named module into the package of
every component of its folder that imports it.
"""


def lines(sensors, sensor_types, labels, most):
    """[(sensor, type, label)] checked: ValueError naming the key that is wrong."""
    if not isinstance(sensors, list) or not 0 < len(sensors) <= most:
        raise ValueError('sensors must be a list of 1 to %d {"ref": "<config key>"}' % most)
    for key, given in (("sensor_types", sensor_types), ("labels", labels)):
        if given is not None and (not isinstance(given, list) or len(given) != len(sensors)):
            raise ValueError("%s must be a list as long as sensors" % key)
    out = []
    for i, sensor in enumerate(sensors):
        if not hasattr(sensor, "getValue"):
            raise ValueError('sensors[%d] must be a sensor: {"ref": "<its config key>"}' % i)
        sensor_type = sensor_types[i] if sensor_types else None
        if sensor_type is None:
            types = sensor.sensor_types
            if len(types) != 1:
                raise ValueError("sensor_types[%d]: %s has %s" % (i, sensor.name, ", ".join(types)))
            sensor_type = types[0]
        sensor.getTopic(sensor_type)  # ValueError if it has no such type
        out.append((sensor, sensor_type, str(labels[i]) if labels else sensor.name))
    return out


def value_format(decimals):
    """The %-format of a line with a number: `<label> <value>` with `decimals` digits."""
    return "%%s %%.%df" % int(decimals)


async def texts(lines, form, width):
    """Each line's text, `--` for a sensor without a value, cut to `width` characters."""
    out = []
    for sensor, sensor_type, label in lines:
        out.append(text(form, label, await sensor.getValue(sensor_type), width))
    return out


def text(form, label, value, width):
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        return (form % (label, value))[:width]
    return ("%s %s" % (label, "--" if value is None else value))[:width]
