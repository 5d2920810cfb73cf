"""Sensor template: copy this file beside your components.py, rename the class, replace _read().

It runs as it is: a simulated climate sensor whose temperature and humidity drift a little on
every reading, so you can watch it in Home Assistant before you wire anything.

Example config (hjson):
    room_climate: {
        package: "sensor_template"    # this file's name, without .py
        component: MySensor
        constructor_args: {
            start_temperature: 21.5   # optional, °C: where the simulation starts
            interval_reading: 10      # optional, seconds between readings (ComponentSensor)
            interval_publish: 30      # optional, seconds between publications, >= reading
            precision: 1              # optional, decimals (ComponentSensor)
        }
    }
"""

import random

from pysmartnode.utils.component import SENSOR_HUMIDITY, SENSOR_TEMPERATURE, ComponentSensor


class MySensor(ComponentSensor):
    def __init__(self, name, start_temperature=21.5, **kwargs):
        # kwargs: interval_reading, interval_publish, precision, offset, filters... -> the base
        super().__init__(name, **kwargs)
        # Real hardware: create the bus and the driver here, e.g.
        #   from pysmartnode.platform import i2c; self._i2c = i2c(sda, scl)
        self._temperature = start_temperature
        self._humidity = 45.0
        # One line per quantity. A SENSOR_* type brings its Home Assistant device class, unit
        # (°C, %) and state class; the payload is {"temperature": 21.5, "humidity": 45.0}
        self._add_sensor_type(SENSOR_TEMPERATURE)
        self._add_sensor_type(SENSOR_HUMIDITY)

    async def _read(self):
        # Called every interval_reading seconds (and by getValue when a value is needed now).
        # Read the hardware here (await asyncio.sleep(...) while a chip converts), then hand
        # each value to the base. Raise on a bad reading: the base logs it once per failure
        # streak and publishes nothing, so Home Assistant never shows a made-up value.
        self._temperature += random.uniform(-0.2, 0.2)
        self._humidity = min(100.0, max(0.0, self._humidity + random.uniform(-1, 1)))
        self._set_value(SENSOR_TEMPERATURE, self._temperature)
        self._set_value(SENSOR_HUMIDITY, self._humidity)
