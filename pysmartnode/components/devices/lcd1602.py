"""A 16x2 character LCD (HD44780) behind a PCF8574 I2C backpack, showing two sensor values of
the node with labels, rewritten every `interval` seconds.

The HD44780 is driven in 4-bit mode through the backpack's port (P0 RS, P1 RW, P2 E, P3
backlight, P4..P7 D4..D7, the common wiring). Each line reads `<label> <value>` (`--` while a
sensor has no value), cut to 16 characters; text is ASCII (other characters show as `?`). It
works alike on boards, the unix port and CPython (the characters come from the HD44780's own
ROM; no framebuf needed). An absent backpack (no ACK, `ENODEV`) is logged once per streak, the
node runs on, and the display is initialised again when it answers.

Example config (hjson):
    greenhouse_air: {
        package: .sensors.bme280
        component: BME280
        constructor_args: {
            sda: 21                   # GPIO of the data line
            scl: 22                   # GPIO of the clock line
        }
    }
    lcd: {
        package: .devices.lcd1602
        component: LCD1602
        constructor_args: {
            sda: 21                   # GPIO of the data line (shared with the sensors)
            scl: 22                   # GPIO of the clock line
            sensors: [{ref: "greenhouse_air"}, {ref: "greenhouse_air"}]  # one or two sensors
            sensor_types: ["temperature", "humidity"]  # optional: a type per line, default each one's only type
            labels: ["Air C", "Air %"]  # optional: a label per line, default the sensor's name
            decimals: 1               # optional: digits after the point, default 1
            address: 39               # optional: 39 (0x27, PCF8574), 63 (0x3F, PCF8574A)
            backlight: true           # optional: default true
            interval: 5               # optional, seconds between rewrites, default 5
        }
    }
"""

import asyncio

from pysmartnode.components.devices._display import lines, texts, value_format
from pysmartnode.platform.hardware import i2c
from pysmartnode.utils.component import ComponentBase

# instructions (datasheet): 4-bit, 2 lines, 5x8 font; display off; clear; cursor moves right;
# display on without cursor
_SETUP = b"\x28\x08\x01\x06\x0c"


class LCD1602(ComponentBase):
    def __init__(self, name, sda, scl, sensors, sensor_types=None, labels=None, decimals=1,
                 address=0x27, backlight=True, interval=5, **kwargs):  # fmt: skip
        super().__init__(name, **kwargs)
        self._lines = lines(sensors, sensor_types, labels, 2)
        if not 0x20 <= address <= 0x27 and not 0x38 <= address <= 0x3F:
            raise ValueError("PCF8574 address must be 32..39 or 56..63, got %r" % (address,))
        if not (isinstance(interval, (int, float)) and interval > 0):
            raise ValueError("interval must be seconds > 0, got %r" % (interval,))
        self._format = value_format(decimals)
        self._address, self._interval = address, interval
        self._light = 0x08 if backlight else 0
        self._i2c = i2c(sda, scl)
        self._out = bytearray(4 * 17)  # a line: the address instruction and 16 characters
        self._ready = False  # initialised since it last failed
        self._absent = False

    def _start(self):
        self._spawn(self._loop)

    async def _loop(self):
        while True:
            await self.refresh()
            await asyncio.sleep(self._interval)

    async def refresh(self):
        """Reads the sensors and rewrites both lines; an absent backpack is logged once."""
        shown = await texts(self._lines, self._format, 16)
        try:
            if not self._ready:
                await self._init()
            for row, text in enumerate(shown):
                self._write_line(row, text)
        except OSError as e:
            self._ready = False
            if not self._absent:
                self._absent = True
                self._log.error(
                    "display at %d does not answer (%s): check wiring", self._address, e
                )
            return
        if self._absent:
            self._absent = False
            self._log.info("display answers again")

    async def _init(self):
        # power-on 8-bit mode: function set three times, then 4-bit (datasheet fig. 24)
        for nibble, wait in ((3, 0.005), (3, 0.001), (3, 0.001), (2, 0.001)):
            n = self._nibble(self._out, 0, nibble, 0)
            self._i2c.writeto(self._address, memoryview(self._out)[:n])
            await asyncio.sleep(wait)
        for instruction in _SETUP:
            n = self._byte(self._out, 0, instruction, 0)
            self._i2c.writeto(self._address, memoryview(self._out)[:n])
            await asyncio.sleep(0.002)  # clear takes 1.52 ms, the others 37 µs
        self._ready = True

    def _write_line(self, row, text):
        out = self._out
        n = self._byte(out, 0, 0x80 | (0x40 if row else 0), 0)  # DDRAM address of the line
        for i in range(16):
            c = ord(text[i]) if i < len(text) else 32
            n = self._byte(out, n, c if 32 <= c < 127 else 63, 1)
        self._i2c.writeto(self._address, out)

    def _byte(self, out, n, value, rs):
        n = self._nibble(out, n, value >> 4, rs)
        return self._nibble(out, n, value & 0x0F, rs)

    def _nibble(self, out, n, nibble, rs):
        port = nibble << 4 | self._light | rs
        out[n] = port | 0x04  # E high, then low: the controller latches on the falling edge
        out[n + 1] = port
        return n + 2
