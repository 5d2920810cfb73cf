"""DHT11 / DHT22 (AM2302) temperature (°C) and humidity (%) on one GPIO, through `dht`.

MicroPython's `dht` driver times the pulses (about 5 ms with interrupts off: the only blocking
part). A timeout, a checksum error or a value outside the sensor's range is a failed reading.
The chip needs a pause between readings: at least 1 s (DHT11) or 2 s (DHT22).

Example config (hjson):
    greenhouse_air: {
        package: .sensors.dht
        component: DHT22
        constructor_args: {
            pin: 4               # GPIO of the data line (10 kΩ pull-up)
            interval_reading: 10 # optional, seconds (ComponentSensor), >= 2
        }
    }
    shed_air: {
        package: .sensors.dht
        component: DHT11
        constructor_args: {
            pin: 5               # GPIO of the data line
        }
    }
"""

from pysmartnode.platform.hardware import pin as gpio
from pysmartnode.utils.component import SENSOR_HUMIDITY, SENSOR_TEMPERATURE, ComponentSensor


class DHT22(ComponentSensor):
    _DRIVER = "DHT22"
    _RANGE = (-40, 80)  # °C the chip measures; humidity 0..100 %

    def __init__(self, name, pin, **kwargs):
        super().__init__(name, **kwargs)
        try:
            import dht
        except ImportError:
            raise OSError("no `dht` module on this platform") from None
        self._chip = getattr(dht, self._DRIVER)(gpio(pin))
        self._add_sensor_type(SENSOR_TEMPERATURE, unit="°C", precision=1)
        self._add_sensor_type(SENSOR_HUMIDITY, unit="%", precision=1)

    async def _read(self):
        try:
            self._chip.measure()
        except OSError as e:
            raise OSError("no answer (%s): check wiring and pull-up" % (e,)) from None
        except Exception as e:  # the driver raises a bare Exception on a checksum error
            raise OSError("bad data: %s" % (e,)) from None
        t, h = self._chip.temperature(), self._chip.humidity()
        if not (self._RANGE[0] <= t <= self._RANGE[1] and 0 <= h <= 100):
            raise ValueError("out of range: %.1f °C, %.1f %%: a damaged sensor or noise" % (t, h))
        self._set_value(SENSOR_TEMPERATURE, t)
        self._set_value(SENSOR_HUMIDITY, h)


class DHT11(DHT22):
    _DRIVER = "DHT11"
    _RANGE = (0, 50)
