"""Battery voltage (V) and charge (%) from an ADC input behind a voltage divider.

The ADC sees `volts = read_u16() / 65535 * vref`, the battery `volts * ratio` (a divider of
100 kΩ over 100 kΩ: ratio 2). The charge follows a discharge curve of (volts, %) points, linear
in between; the default is a single Li-ion/LiPo cell at rest. A battery voltage below
`min_volts` (nothing connected, a broken divider) or a saturated ADC is a failed reading,
never 0 % or 100 %.

Example config (hjson):
    battery: {
        package: .sensors.battery
        component: Battery
        constructor_args: {
            pin: 35               # GPIO of the ADC input (the divider's middle)
            ratio: 2              # optional: battery volts / ADC volts, default 2
            vref: 3.3             # optional, volts at read_u16() 65535, default 3.3
            # curve: [[3.0, 0], [3.7, 50], [4.2, 100]]  # optional: (volts, %) points, rising
            min_volts: 2.5         # optional, volts: below it there is no battery, default 2.5
            interval_reading: 60  # optional, seconds (ComponentSensor)
        }
    }
"""

from pysmartnode.platform.hardware import adc
from pysmartnode.utils.component import SENSOR_BATTERY, SENSOR_VOLTAGE, ComponentSensor

# Li-ion / LiPo single cell, at rest: volts -> %
_LIION = ((3.0, 0), (3.3, 5), (3.6, 20), (3.7, 40), (3.8, 60), (3.9, 75), (4.0, 85), (4.2, 100))


def percent(curve, volts):
    """The charge at volts on a rising curve of (volts, %) points, clamped to its ends."""
    if volts <= curve[0][0]:
        return curve[0][1]
    for (v1, p1), (v2, p2) in zip(curve, curve[1:]):
        if volts <= v2:
            return p1 + (p2 - p1) * (volts - v1) / (v2 - v1)
    return curve[-1][1]


class Battery(ComponentSensor):
    def __init__(self, name, pin, ratio=2, vref=3.3, curve=None, min_volts=2.5, **kwargs):
        super().__init__(name, **kwargs)
        curve = tuple(tuple(p) for p in curve) if curve else _LIION
        for (v1, _), (v2, _) in zip(curve, curve[1:]):
            if not v2 > v1:
                raise ValueError("curve must rise in volts, got %r" % (curve,))
        if len(curve) < 2 or not ratio > 0 or not vref > 0:
            raise ValueError("need 2+ curve points and positive ratio and vref")
        self._curve = curve
        self._scale = ratio * vref / 65535
        self._min_volts = min_volts
        self._adc = adc(pin)
        self._add_sensor_type(SENSOR_VOLTAGE, unit="V", precision=2)
        self._add_sensor_type(SENSOR_BATTERY, unit="%", precision=0)

    async def _read(self):
        raw = self._adc.read_u16()
        if raw >= 65535:
            raise ValueError("ADC saturated (65535): divider missing or ratio too small")
        volts = raw * self._scale
        if volts < self._min_volts:
            raise ValueError(
                "%.2f V is below min_volts %.2f V: no battery?" % (volts, self._min_volts)
            )
        self._set_value(SENSOR_VOLTAGE, volts)
        self._set_value(SENSOR_BATTERY, percent(self._curve, volts))
