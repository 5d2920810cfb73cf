"""HTU21D (also SHT21, Si7021) on I2C: temperature (°C) and relative humidity (%).

"No hold master" commands: the chip converts while the bus is free and the reading awaits it
(50 ms temperature, 16 ms humidity). Every word is checked against its CRC; humidity is
compensated for temperature as the datasheet gives it and kept within 0..100 %.

Example config (hjson):
    bathroom: {
        package: .sensors.htu21d
        component: HTU21D
        constructor_args: {
            sda: 21              # GPIO of the data line
            scl: 22              # GPIO of the clock line
            interval_reading: 30 # optional, seconds (ComponentSensor)
        }
    }
"""

import asyncio

from pysmartnode.platform import const
from pysmartnode.platform.hardware import i2c
from pysmartnode.utils.component import SENSOR_HUMIDITY, SENSOR_TEMPERATURE, ComponentSensor

_ADDRESS = const(0x40)
_TEMPERATURE_NO_HOLD = b"\xf3"
_HUMIDITY_NO_HOLD = b"\xf5"


def crc8(data):
    """The HTU21D's CRC-8 (x^8 + x^5 + x^4 + 1, initial 0)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def word(raw):
    """The 16-bit measurement of 3 bytes (MSB, LSB, CRC), status bits cleared."""
    if crc8(raw[:2]) != raw[2]:
        raise OSError("CRC mismatch: 0x%02x%02x with CRC 0x%02x" % (raw[0], raw[1], raw[2]))
    return (raw[0] << 8 | raw[1]) & 0xFFFC


class HTU21D(ComponentSensor):
    def __init__(self, name, sda, scl, **kwargs):
        super().__init__(name, **kwargs)
        self._bus = i2c(sda, scl)
        self._raw = bytearray(3)
        self._add_sensor_type(SENSOR_TEMPERATURE, unit="°C", precision=1)
        self._add_sensor_type(SENSOR_HUMIDITY, unit="%", precision=1)

    async def _measure(self, command, seconds):
        self._bus.writeto(_ADDRESS, command)
        await asyncio.sleep(seconds)
        self._bus.readfrom_into(_ADDRESS, self._raw)
        return word(self._raw)

    async def _read(self):
        t = -46.85 + 175.72 * await self._measure(_TEMPERATURE_NO_HOLD, 0.05) / 65536
        rh = -6 + 125 * await self._measure(_HUMIDITY_NO_HOLD, 0.016) / 65536
        rh += (25 - t) * -0.15  # datasheet: temperature coefficient -0.15 %RH/°C
        self._set_value(SENSOR_TEMPERATURE, t)
        self._set_value(SENSOR_HUMIDITY, min(max(rh, 0), 100))
