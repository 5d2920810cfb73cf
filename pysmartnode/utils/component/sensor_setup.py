"""What a sensor needs only while it is built or its intervals change (sensor_base.py): declaring
a sensor type (with the Home Assistant sensor device classes, their default units and state
classes; the SENSOR_* names are in definitions.py), checking and changing intervals, the interval
commands.

Loaded on demand and dropped after (the registry drops it after the build, the interval
subscription after each message): a node that runs holds none of these function objects.
"""

import asyncio

from pysmartnode.platform import ticks_ms


def init(sensor, name, interval_reading=None, interval_publish=None, precision=None, offset=None,
         filters=None, retain=False, discover=True, friendly_name=None):  # fmt: skip
    """ComponentSensor.__init__ (its docstring says what each argument does)."""
    from pysmartnode import config
    from pysmartnode.utils.component.base import ComponentBase

    ComponentBase.__init__(sensor, name, discover, friendly_name)
    if interval_reading is None:
        interval_reading = config.INTERVAL_SENSOR_READ
    if interval_publish is None:
        interval_publish = max(config.INTERVAL_SENSOR_PUBLISH, interval_reading)
    check_intervals(interval_reading, interval_publish)
    # Kept only when they differ from the defaults, which ComponentBase.__getattr__ answers
    if interval_reading != config.INTERVAL_SENSOR_READ:
        sensor._interval_reading = interval_reading
    if interval_publish != max(config.INTERVAL_SENSOR_PUBLISH, interval_reading):
        sensor._interval_publish = interval_publish
    if precision is not None:  # these three are read when the types are declared
        sensor._precision = precision
    if offset is not None:
        sensor._offset = offset
    if filters:
        from pysmartnode.utils.component import filters as f

        sensor._filter_spec = filters
        sensor._gate = f.gate(filters)  # a Gate when delta/throttle filters are set
    if retain:
        sensor._retain = True
    sensor._types = {}


def check_intervals(reading, publish):
    """Raises ValueError unless reading and publish are seconds > 0 or -1, publish >= reading."""
    for key, value in (("interval_reading", reading), ("interval_publish", publish)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("%s must be seconds (a number), got %r" % (key, value))
        if value <= 0 and value != -1:
            raise ValueError("%s must be > 0, or -1 for on demand only, got %r" % (key, value))
    if publish != -1 and reading != -1 and publish < reading:
        raise ValueError(
            "interval_publish (%r s) must not be shorter than interval_reading (%r s)"
            % (publish, reading)
        )


def add_type(sensor, sensor_type, unit=None, precision=None, device_class=None,
             state_class=None, name=None, offset=0, entity_category=None):  # fmt: skip
    """SensorBase._add_sensor_type (its docstring says what each argument does)."""
    if not isinstance(sensor_type, str) or not sensor_type:
        raise ValueError("sensor type must be a non-empty string, got %r" % (sensor_type,))
    if device_class is None:
        device_class = sensor_type if is_sensor_class(sensor_type) else ""
    if unit is None:
        unit = default_unit(device_class) or ""
    if state_class is None:
        state_class = default_state_class(device_class) or ""
    precision = _pick(sensor._precision, sensor_type, precision)
    offset = _pick(sensor._offset, sensor_type, offset) or 0
    if precision is not None and (isinstance(precision, bool) or not isinstance(precision, int)
                                  or not 0 <= precision <= 10):  # fmt: skip
        raise ValueError("precision must be 0 to 10 decimals, got %r" % (precision,))
    if isinstance(offset, bool) or not isinstance(offset, (int, float)):
        raise ValueError("offset must be a number, got %r" % (offset,))
    if sensor._filter_spec:
        from pysmartnode.utils.component import filters as f

        chain = f.chain(sensor._filter_spec, sensor_type)
        if chain is not None:
            if sensor._chains is None:
                sensor._chains = {}
            sensor._chains[sensor_type] = chain
    if entity_category:
        name = (name, entity_category)
    # the record: sensor_base._PRECISION ... _NAME
    sensor._types[sensor_type] = [precision, offset, None, None, unit, device_class,
                                  state_class, name]  # fmt: skip


def _pick(option, sensor_type, default):
    if isinstance(option, dict):
        return option.get(sensor_type, default)
    return default if option is None else option


# ------------------------------------------------------------------ rarely used methods
# ComponentSensor's (SensorBase._rare): sensor.<name>(...) calls <name>(sensor, ...) here


def sensor_types(sensor):
    """sensor.sensor_types: the declared sensor types."""
    return list(sensor._types)


def intervals(sensor):
    """sensor.intervals: (interval_reading, interval_publish) in seconds."""
    return sensor._interval_reading, sensor._interval_publish


def getTopic(sensor, sensor_type=None):
    """The state topic of sensor_type (device form `./<name>`; all types share it)."""
    sensor._record(sensor_type)
    return sensor._topic


def getTemplate(sensor, sensor_type=None):
    """The HA value template that extracts sensor_type from the state topic."""
    sensor._record(sensor_type)
    if sensor._bare():
        return "{{ value }}"
    return "{{ value_json.%s }}" % sensor_type


def getTimestamp(sensor, sensor_type=None):
    """ticks_ms of the last reading of sensor_type (not wall-clock time), None before."""
    return sensor._record(sensor_type)[3]  # sensor_base._TIME


def getReadingsEvent(sensor):
    """An asyncio.Event set after every successful reading (the consumer clears it)."""
    if sensor._event is None:
        sensor._event = asyncio.Event()
    return sensor._event


async def _read(sensor):
    """The hook a sensor implements: read the hardware, call _set_value for each type."""
    raise NotImplementedError("%s has no _read()" % type(sensor).__name__)


def set_intervals(sensor, reading=None, publish=None, retain=True):
    """Changes the reading and/or publish interval now (None keeps one).

    Also over MQTT: `./<name>/interval/set` with {"reading": s, "publish": s}. Either way
    the change is kept retained on `./<name>/interval` (retain=False: not) and restored at
    the next start and at every reconnect.

    Raises:
        ValueError: the pair would be invalid; nothing changes then.
    """
    reading = sensor._interval_reading if reading is None else reading
    publish = sensor._interval_publish if publish is None else publish
    check_intervals(reading, publish)
    changed = (reading, publish) != intervals(sensor)
    sensor._interval_reading, sensor._interval_publish = reading, publish
    if changed and sensor._next_read is not None:  # count from now, with the new intervals
        from pysmartnode.utils.component.sensor_base import kick

        sensor._next_read = sensor._next_publish = ticks_ms()
        kick()
    if changed and retain and sensor._mqtt is not None:
        asyncio.create_task(
            sensor._mqtt.publish(sensor._topic + "/interval", interval_state(sensor), True, 1)
        )
    if changed and sensor.discover:
        from pysmartnode import node

        if node.discovery is not None:
            node.discovery.refresh()  # expire_after follows the publish interval
    return changed


def on_intervals(sensor, msg):
    """A message on `./<name>/interval/set`, or the retained state on `./<name>/interval`:
    returns the state to publish retained (the MQTT handle's echo), None if ignored."""
    if not isinstance(msg, dict) or not msg or [k for k in msg if k not in ("reading", "publish")]:
        what = "unknown key" if isinstance(msg, dict) and msg else type(msg).__name__
        # the type only: a repr of deep JSON would recurse
        sensor._log.warning('ignored intervals (%s): want {"reading": s, "publish": s}', what)
        return None
    try:  # a command is echoed retained by the MQTT handle, a retained state is one
        changed = set_intervals(sensor, msg.get("reading"), msg.get("publish"), False)
    except ValueError as e:
        sensor._log.warning("ignored intervals: %s", e)
        return None
    if changed:  # (a reconnect delivers the retained state again: no news then)
        sensor._log.info("intervals: reading %s s, publish %s s", *intervals(sensor))
    return interval_state(sensor)


def interval_state(sensor):
    return {"reading": sensor._interval_reading, "publish": sensor._interval_publish}


# ------------------------------------------------------------------ Home Assistant sensor classes

# Every sensor device class HA 2025.4 knows (one string: a table of str objects costs more RAM),
# space-separated with a space at both ends so " %s " % name finds whole words only
_SENSOR_CLASSES = (
    " apparent_power aqi area atmospheric_pressure battery blood_glucose_concentration"
    " carbon_dioxide carbon_monoxide conductivity current data_rate data_size date distance"
    " duration energy energy_distance energy_storage enum frequency gas humidity illuminance"
    " irradiance moisture monetary nitrogen_dioxide nitrogen_monoxide nitrous_oxide ozone ph pm1"
    " pm10 pm25 power power_factor precipitation precipitation_intensity pressure reactive_power"
    " signal_strength sound_pressure speed sulphur_dioxide temperature timestamp"
    " volatile_organic_compounds volatile_organic_compounds_parts voltage volume volume_flow_rate"
    " volume_storage water weight wind_direction wind_speed "
)
# Default unit per device class: "class=unit" pairs, ";"-separated
_UNITS = (
    ";temperature=°C;humidity=%;battery=%;moisture=%;pressure=hPa;atmospheric_pressure=hPa"
    ";illuminance=lx;voltage=V;current=A;power=W;apparent_power=VA;energy=kWh;frequency=Hz"
    ";signal_strength=dBm;duration=s;data_size=B;data_rate=B/s;distance=m;speed=m/s"
    ";wind_speed=m/s;carbon_dioxide=ppm;carbon_monoxide=ppm;pm1=μg/m³;pm10=μg/m³;pm25=μg/m³"
    ";volatile_organic_compounds=μg/m³;irradiance=W/m²;sound_pressure=dB;volume=L;water=L"
    ";gas=m³;weight=g;precipitation=mm;power_factor=%;"
)
# Classes whose values only grow (meters): total_increasing instead of measurement
_TOTALS = " energy gas water precipitation "
# Classes that are not numbers: no state class
_NOT_MEASURED = " timestamp date enum "


def is_sensor_class(name):
    """True if name is a Home Assistant sensor device class."""
    return isinstance(name, str) and " " not in name and (" %s " % name) in _SENSOR_CLASSES


def default_unit(device_class):
    """The unit a value of this device class is published in by default, or None."""
    if not device_class:
        return None
    start = _UNITS.find(";%s=" % device_class)
    if start < 0:
        return None
    start += len(device_class) + 2
    return _UNITS[start : _UNITS.find(";", start)]


def default_state_class(device_class):
    """measurement, total_increasing for meters, None for timestamps, dates and enums."""
    if device_class and (" %s " % device_class) in _TOTALS:
        return "total_increasing"
    if device_class and (" %s " % device_class) in _NOT_MEASURED:
        return None
    return "measurement"


def leave(sensor):
    """ComponentSensor.stop: the sensor leaves the shared scheduler (sensor_base.py); the last
    one out ends its task and the interval subscriptions. (Here, not in sensor_base: that
    module's table is full at 12 names.)"""
    from pysmartnode.utils.component.sensor_base import SensorBase, _on_intervals

    sensors = SensorBase._sensors
    if sensor in sensors:
        sensors.remove(sensor)
    sensor._next_read = None
    if sensor._busy is not None:
        sensor._busy.cancel()
        sensor._busy = None  # first: a deleted slot keeps its value (base._DEFAULTS)
        del sensor._busy
    if not sensors:
        task = SensorBase._scheduler
        if task is not None:
            SensorBase._scheduler = None  # first: the task ends, it does not take it as a wake
            task.cancel()
        mqtt = SensorBase._subscribed
        if mqtt is not None:
            SensorBase._subscribed = None
            mqtt.unsubscribe("./+/interval/set", _on_intervals)
            mqtt.unsubscribe("./+/interval", _on_intervals)
