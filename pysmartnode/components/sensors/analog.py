"""A value from an analog input (ADC), calibrated by two points: soil moisture, a pressure
transducer, a light-dependent resistor, anything with a linear voltage.

The raw reading is `read_u16()` (0..65535 on every port), averaged over `samples`. Two points
`[raw, value]` give the line; a raw reading at the rail (0 or 65535: the input open or shorted)
is a failed reading unless `rail_ok`.

Example config (hjson):
    soil: {
        package: .sensors.analog
        component: Analog
        constructor_args: {
            pin: 34                   # GPIO of the ADC input
            calibration: [[52000, 0], [21000, 100]]  # two points [raw, value]: dry 0, wet 100
            sensor_type: "moisture"   # optional: a device class gives the unit (% here)
            unit: "%"                 # optional: default the device class's unit, else none
            precision: 1              # optional, decimals (ComponentSensor)
            samples: 8                # optional: readings averaged, default 4
            rail_ok: false            # optional: accept 0 and 65535 as real readings
            interval_reading: 10      # optional, seconds (ComponentSensor)
        }
    }
"""

from pysmartnode.platform.hardware import adc
from pysmartnode.utils.component import ComponentSensor


def line(calibration):
    """(slope, intercept) through two points [[raw1, value1], [raw2, value2]]."""
    try:
        (r1, v1), (r2, v2) = calibration
        slope = (v2 - v1) / (r2 - r1)
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValueError(
            "calibration must be two points [[raw, value], [raw, value]] with different raw "
            "values, got %r" % (calibration,)
        ) from None
    return slope, v1 - slope * r1


class Analog(ComponentSensor):
    def __init__(self, name, pin, calibration=((0, 0), (65535, 100)), sensor_type="value",
                 unit=None, samples=4, rail_ok=False, **kwargs):  # fmt: skip
        super().__init__(name, **kwargs)
        if not isinstance(samples, int) or not 1 <= samples <= 64:
            raise ValueError("samples must be 1 to 64, got %r" % (samples,))
        self._line = line(calibration)
        self._samples = samples
        self._rail_ok = rail_ok
        self._type = sensor_type
        self._adc = adc(pin)
        self._add_sensor_type(sensor_type, unit=unit)

    async def _read(self):
        total = 0
        for _ in range(self._samples):
            raw = self._adc.read_u16()
            if not self._rail_ok and (raw <= 0 or raw >= 65535):
                raise ValueError("input at the rail (raw %d): sensor disconnected or shorted" % raw)
            total += raw
        slope, intercept = self._line
        self._set_value(self._type, slope * total / self._samples + intercept)
