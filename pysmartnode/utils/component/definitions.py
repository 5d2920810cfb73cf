"""Sensor types and Home Assistant classes, by name.

A sensor type is the key of a value in a sensor's payload ({"temperature": 21.5}). The SENSOR_*
names below are also Home Assistant device classes (as of HA 2025.4, valid through 2026.11): a
type with one of these names gets that device class, a default unit and a state class in
discovery. Any other string is a valid type too ("ph_raw", "ec"): it is published, and discovered
without a device class. BINARY_* are binary_sensor device classes. Loaded on first use of a name.
"""

# Sensor types that are HA sensor device classes
SENSOR_APPARENT_POWER = "apparent_power"
SENSOR_AQI = "aqi"
SENSOR_ATMOSPHERIC_PRESSURE = "atmospheric_pressure"
SENSOR_BATTERY = "battery"
SENSOR_CO = "carbon_monoxide"
SENSOR_CO2 = "carbon_dioxide"
SENSOR_CURRENT = "current"
SENSOR_DATA_RATE = "data_rate"
SENSOR_DATA_SIZE = "data_size"
SENSOR_DISTANCE = "distance"
SENSOR_DURATION = "duration"
SENSOR_ENERGY = "energy"
SENSOR_FREQUENCY = "frequency"
SENSOR_GAS = "gas"
SENSOR_HUMIDITY = "humidity"
SENSOR_ILLUMINANCE = "illuminance"
SENSOR_IRRADIANCE = "irradiance"
SENSOR_MOISTURE = "moisture"
SENSOR_PH = "ph"
SENSOR_PM1 = "pm1"
SENSOR_PM10 = "pm10"
SENSOR_PM25 = "pm25"
SENSOR_POWER = "power"
SENSOR_POWER_FACTOR = "power_factor"
SENSOR_PRECIPITATION = "precipitation"
SENSOR_PRESSURE = "pressure"
SENSOR_SIGNAL_STRENGTH = "signal_strength"
SENSOR_SOUND_PRESSURE = "sound_pressure"
SENSOR_SPEED = "speed"
SENSOR_TEMPERATURE = "temperature"
SENSOR_TIMESTAMP = "timestamp"
SENSOR_VOC = "volatile_organic_compounds"
SENSOR_VOLTAGE = "voltage"
SENSOR_VOLUME = "volume"
SENSOR_WATER = "water"
SENSOR_WEIGHT = "weight"
SENSOR_WIND_SPEED = "wind_speed"

# binary_sensor device classes
BINARY_BATTERY = "battery"
BINARY_COLD = "cold"
BINARY_CONNECTIVITY = "connectivity"
BINARY_DOOR = "door"
BINARY_GARAGE_DOOR = "garage_door"
BINARY_GAS = "gas"
BINARY_HEAT = "heat"
BINARY_LIGHT = "light"
BINARY_LOCK = "lock"
BINARY_MOISTURE = "moisture"
BINARY_MOTION = "motion"
BINARY_MOVING = "moving"
BINARY_OCCUPANCY = "occupancy"
BINARY_OPENING = "opening"
BINARY_PLUG = "plug"
BINARY_POWER = "power"
BINARY_PRESENCE = "presence"
BINARY_PROBLEM = "problem"
BINARY_RUNNING = "running"
BINARY_SAFETY = "safety"
BINARY_SMOKE = "smoke"
BINARY_SOUND = "sound"
BINARY_TAMPER = "tamper"
BINARY_VIBRATION = "vibration"
BINARY_WINDOW = "window"

# state classes (sensor)
STATE_MEASUREMENT = "measurement"
STATE_TOTAL = "total"
STATE_TOTAL_INCREASING = "total_increasing"

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
_BINARY_CLASSES = (
    " battery battery_charging carbon_monoxide cold connectivity door garage_door gas heat light"
    " lock moisture motion moving occupancy opening plug power presence problem running safety"
    " smoke sound tamper update vibration window "
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


def is_binary_class(name):
    """True if name is a Home Assistant binary_sensor device class."""
    return isinstance(name, str) and " " not in name and (" %s " % name) in _BINARY_CLASSES


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
        return STATE_TOTAL_INCREASING
    if device_class and (" %s " % device_class) in _NOT_MEASURED:
        return None
    return STATE_MEASUREMENT
