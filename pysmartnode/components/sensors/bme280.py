"""BME280 on I2C: temperature (°C), relative humidity (%) and pressure (hPa).

Forced mode, 1x oversampling: one measurement per reading (about 10 ms, awaited), the chip
sleeps in between. The compensation is the datasheet's integer arithmetic (Bosch BST-BME280-DS002
§4.2.3), from the trimming read once at the first reading. A BMP280 (no humidity) is refused by
its chip id; the "measurement skipped" raw values are a failed reading, never a number.

Example config (hjson):
    climate: {
        package: .sensors.bme280
        component: BME280
        constructor_args: {
            sda: 21              # GPIO of the data line
            scl: 22              # GPIO of the clock line
            address: 118         # optional: 118 (0x76, SDO low) or 119 (0x77, SDO high)
            interval_reading: 60 # optional, seconds (ComponentSensor)
        }
    }
"""

import asyncio

from pysmartnode.platform import const
from pysmartnode.platform.hardware import i2c
from pysmartnode.utils.component import (
    SENSOR_HUMIDITY,
    SENSOR_PRESSURE,
    SENSOR_TEMPERATURE,
    ComponentSensor,
)

_CHIP_ID = const(0x60)
_REG_ID = const(0xD0)
_REG_CALIB_TP = const(0x88)  # 24 bytes: T1..T3, P1..P9 (little endian)
_REG_CALIB_H1 = const(0xA1)
_REG_CALIB_H = const(0xE1)  # 7 bytes: H2..H6
_REG_CTRL_HUM = const(0xF2)
_REG_STATUS = const(0xF3)
_REG_CTRL_MEAS = const(0xF4)
_REG_DATA = const(0xF7)  # 8 bytes: pressure, temperature (20 bit), humidity (16 bit)
_FORCED_1X = const(0x25)  # osrs_t x1, osrs_p x1, forced mode
_SKIPPED = const(0x80000)


def _s16(lo, hi):
    v = hi << 8 | lo
    return v - 0x10000 if v & 0x8000 else v


def calibration(tp, h1, h):
    """(T1..T3, P1..P9, H1..H6) from the 24 + 1 + 7 trimming bytes."""
    out = [tp[0] | tp[1] << 8, _s16(tp[2], tp[3]), _s16(tp[4], tp[5]), tp[6] | tp[7] << 8]
    out += [_s16(tp[i], tp[i + 1]) for i in range(8, 24, 2)]
    h4 = h[3] << 4 | (h[4] & 0x0F)
    h5 = h[5] << 4 | h[4] >> 4
    h6 = h[6] - 256 if h[6] & 0x80 else h[6]
    out += [h1, _s16(h[0], h[1]), h[2], h4 - 4096 if h4 & 0x800 else h4,
            h5 - 4096 if h5 & 0x800 else h5, h6]  # fmt: skip
    return out


def compensate(c, adc_t, adc_p, adc_h):
    """(°C, hPa, %RH) from raw values, with the datasheet's integer formulas."""
    t1, t2, t3, p1, p2, p3, p4, p5, p6, p7, p8, p9, h1, h2, h3, h4, h5, h6 = c
    var1 = (((adc_t >> 3) - (t1 << 1)) * t2) >> 11
    var2 = (((((adc_t >> 4) - t1) * ((adc_t >> 4) - t1)) >> 12) * t3) >> 14
    t_fine = var1 + var2
    temperature = ((t_fine * 5 + 128) >> 8) / 100
    var1 = t_fine - 128000
    var2 = var1 * var1 * p6 + ((var1 * p5) << 17) + (p4 << 35)
    var1 = ((var1 * var1 * p3) >> 8) + ((var1 * p2) << 12)
    var1 = (((1 << 47) + var1) * p1) >> 33
    if var1 == 0:
        raise OSError("BME280 pressure trimming is zero: calibration bytes not read")
    p = 1048576 - adc_p
    p = (((p << 31) - var2) * 3125) // var1
    var1 = (p9 * (p >> 13) * (p >> 13)) >> 25
    var2 = (p8 * p) >> 19
    pressure = (((p + var1 + var2) >> 8) + (p7 << 4)) / 25600  # Q24.8 Pa -> hPa
    v = t_fine - 76800
    v = ((((adc_h << 14) - (h4 << 20) - (h5 * v)) + 16384) >> 15) * (
        ((((((v * h6) >> 10) * (((v * h3) >> 11) + 32768)) >> 10) + 2097152) * h2 + 8192) >> 14
    )
    v -= ((((v >> 15) * (v >> 15)) >> 7) * h1) >> 4
    v = min(max(v, 0), 419430400)
    return temperature, pressure, (v >> 12) / 1024


class BME280(ComponentSensor):
    def __init__(self, name, sda, scl, address=0x76, **kwargs):
        super().__init__(name, **kwargs)
        if address not in (0x76, 0x77):
            raise ValueError("BME280 address must be 118 (0x76) or 119 (0x77), got %r" % (address,))
        self._bus = i2c(sda, scl)
        self._address = address
        self._calibration = None
        self._data = bytearray(8)
        self._add_sensor_type(SENSOR_TEMPERATURE, unit="°C", precision=1)
        self._add_sensor_type(SENSOR_HUMIDITY, unit="%", precision=1)
        self._add_sensor_type(SENSOR_PRESSURE, unit="hPa", precision=1)

    async def _read(self):
        bus, address = self._bus, self._address
        if self._calibration is None:
            chip = bus.readfrom_mem(address, _REG_ID, 1)[0]
            if chip != _CHIP_ID:
                raise OSError("chip id 0x%02x at 0x%02x is no BME280 (0x60)" % (chip, address))
            self._calibration = calibration(
                bus.readfrom_mem(address, _REG_CALIB_TP, 24),
                bus.readfrom_mem(address, _REG_CALIB_H1, 1)[0],
                bus.readfrom_mem(address, _REG_CALIB_H, 7),
            )
        bus.writeto_mem(address, _REG_CTRL_HUM, b"\x01")  # takes effect with ctrl_meas
        bus.writeto_mem(address, _REG_CTRL_MEAS, bytes((_FORCED_1X,)))
        for _ in range(10):  # datasheet: at most 9.3 ms at 1x oversampling
            await asyncio.sleep(0.01)
            if not bus.readfrom_mem(address, _REG_STATUS, 1)[0] & 0x08:
                break
        else:
            raise OSError("BME280 still measuring after 100 ms")
        bus.readfrom_mem_into(address, _REG_DATA, self._data)
        d = self._data
        adc_p = d[0] << 12 | d[1] << 4 | d[2] >> 4
        adc_t = d[3] << 12 | d[4] << 4 | d[5] >> 4
        adc_h = d[6] << 8 | d[7]
        if adc_t == _SKIPPED or adc_p == _SKIPPED or adc_h == 0x8000:
            raise OSError("BME280 skipped the measurement (raw 0x80000): check power and mode")
        t, p, h = compensate(self._calibration, adc_t, adc_p, adc_h)
        self._set_value(SENSOR_TEMPERATURE, t)
        self._set_value(SENSOR_HUMIDITY, h)
        self._set_value(SENSOR_PRESSURE, p)
