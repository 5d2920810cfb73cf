"""Sensor types and Home Assistant classes, by name.

A sensor type is the key of a value in a sensor's payload ({"temperature": 21.5}). The SENSOR_*
names below are also Home Assistant device classes (as of HA 2025.4, valid through 2026.11): a
type with one of these names gets that device class, a default unit and a state class in
discovery. Any other string is a valid type too ("ph_raw", "ec"): it is published, and discovered
without a device class. BINARY_* are binary_sensor device classes. Loaded on first use of a name.
The tables of sensor classes, units and state classes a sensor's build reads: sensor_setup.py.
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

# Every binary_sensor device class HA 2025.4 knows (one string: a table of str objects costs
# more RAM), space-separated with a space at both ends so " %s " % name finds whole words only
_BINARY_CLASSES = (
    " battery battery_charging carbon_monoxide cold connectivity door garage_door gas heat light"
    " lock moisture motion moving occupancy opening plug power presence problem running safety"
    " smoke sound tamper update vibration window "
)


def is_binary_class(name):
    """True if name is a Home Assistant binary_sensor device class."""
    return isinstance(name, str) and " " not in name and (" %s " % name) in _BINARY_CLASSES
