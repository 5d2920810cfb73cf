"""BH1750 ambient-light sensor on I2C, one reading in lux.

One-time high-resolution mode: the chip measures once (up to 180 ms, awaited) and powers down.

Example config (hjson):
    hall_light: {
        package: .sensors.bh1750
        component: BH1750
        constructor_args: {
            sda: 4               # GPIO of the data line
            scl: 5               # GPIO of the clock line
            address: 35          # optional: 35 (0x23), or 92 (0x5C) with ADDR high
            interval_reading: 60 # optional, seconds (ComponentSensor)
        }
    }
"""

import asyncio

from pysmartnode.platform.hardware import i2c
from pysmartnode.utils.component import SENSOR_ILLUMINANCE, ComponentSensor

_ONE_SHOT_HIGH_RES = b"\x20"  # datasheet: conversion takes up to 180 ms


class BH1750(ComponentSensor):
    def __init__(self, name, sda, scl, address=0x23, **kwargs):
        super().__init__(name, **kwargs)
        if address not in (0x23, 0x5C):
            raise ValueError("BH1750 address must be 35 (0x23) or 92 (0x5C), got %r" % (address,))
        self._bus = i2c(sda, scl)
        self._address = address
        self._raw = bytearray(2)  # reused by every reading
        self._add_sensor_type(SENSOR_ILLUMINANCE, unit="lx", precision=0)

    async def _read(self):
        self._bus.writeto(self._address, _ONE_SHOT_HIGH_RES)
        await asyncio.sleep(0.18)  # other tasks run while the chip converts
        self._bus.readfrom_into(self._address, self._raw)
        self._set_value(SENSOR_ILLUMINANCE, (self._raw[0] << 8 | self._raw[1]) / 1.2)
