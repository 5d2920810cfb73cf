"""An SSD1306 128x64 OLED on I2C showing sensor values of the node, one per line with a label,
redrawn every `interval` seconds.

Up to 8 lines of 16 characters in 8x8 cells: `<label> <value>`, `--` while a sensor has no
value. Where MicroPython's `framebuf` is built in (boards, the unix port) it draws the text in
its own font; elsewhere (CPython, a port built without framebuf) the component draws it with
this project's 5x8 glyphs (ssd1306_frame.py, ssd1306_font.py, loaded only there): the same
lines, a different typeface. Characters outside ASCII 32..126 show as `?` there. An absent
display (no ACK, `ENODEV`) is logged once per streak, the node runs on, and the display is
initialised again when it answers.

Example config (hjson):
    greenhouse_air: {
        package: .sensors.bme280
        component: BME280
        constructor_args: {
            sda: 21                   # GPIO of the data line
            scl: 22                   # GPIO of the clock line
        }
    }
    oled: {
        package: .devices.ssd1306
        component: SSD1306
        constructor_args: {
            sda: 21                   # GPIO of the data line (shared with the sensors)
            scl: 22                   # GPIO of the clock line
            sensors: [{ref: "greenhouse_air"}, {ref: "greenhouse_air"}]  # sensors, a line each
            sensor_types: ["temperature", "humidity"]  # optional: a type per line, default each one's only type
            labels: ["Air C", "Air %"]  # optional: a label per line, default the sensor's name
            decimals: 1               # optional: digits after the point, default 1
            address: 60               # optional: 60 (0x3C), or 61 (0x3D) with SA0 high
            interval: 5               # optional, seconds between redraws, default 5
        }
    }
"""

import asyncio

from pysmartnode.components.devices._display import lines, texts, value_format
from pysmartnode.platform import const
from pysmartnode.platform.hardware import i2c
from pysmartnode.utils.component import ComponentBase

_WIDTH = const(128)
_PAGES = const(8)  # 64 rows, 8 per page
# datasheet init: off, clock, multiplex 64, offset 0, start line 0, charge pump on, page
# addressing, segment remap, COM scan down, COM pins alternative, contrast, precharge, VCOMH,
# RAM content, not inverted, on
_INIT = b"\x00\xae\xd5\x80\xa8\x3f\xd3\x00\x40\x8d\x14\x20\x02\xa1\xc8\xda\x12\x81\xcf\xd9\xf1\xdb\x40\xa4\xa6\xaf"  # noqa: E501


class SSD1306(ComponentBase):
    def __init__(self, name, sda, scl, sensors, sensor_types=None, labels=None, decimals=1,
                 address=0x3C, interval=5, **kwargs):  # fmt: skip
        super().__init__(name, **kwargs)
        self._lines = lines(sensors, sensor_types, labels, _PAGES)
        if address not in (0x3C, 0x3D):
            raise ValueError("SSD1306 address must be 60 (0x3C) or 61 (0x3D), got %r" % (address,))
        if not (isinstance(interval, (int, float)) and interval > 0):
            raise ValueError("interval must be seconds > 0, got %r" % (interval,))
        self._format = value_format(decimals)
        self._address, self._interval = address, interval
        self._i2c = i2c(sda, scl)
        self._buffer = bytearray(_WIDTH * _PAGES)  # MONO_VLSB: the controller's own layout
        self._page = bytearray(_WIDTH + 1)  # 0x40 (data follows), then one page
        self._page[0] = 0x40
        self._command = bytearray(4)  # 0x00 (commands follow), page, column low, column high
        self._ready = False  # initialised since it last failed
        self._absent = False
        self._frame = None

    def _start(self):
        self._spawn(self._loop)

    async def _loop(self):
        while True:
            await self.refresh()
            await asyncio.sleep(self._interval)

    async def refresh(self):
        """Reads the sensors and redraws; an absent display is logged once per streak."""
        self._draw(await texts(self._lines, self._format, 16))
        try:
            if not self._ready:
                self._i2c.writeto(self._address, _INIT)
                self._ready = True
            self.show()
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

    def _draw(self, shown):
        if self._frame is None:
            try:
                import framebuf
            except ImportError:  # CPython: this project's glyphs, same page layout
                from pysmartnode.components.devices.ssd1306_frame import Frame

                self._frame = Frame(self._buffer, _WIDTH, 64)
            else:
                self._frame = framebuf.FrameBuffer(self._buffer, _WIDTH, 64, framebuf.MONO_VLSB)
        self._frame.fill(0)
        for row, text in enumerate(shown):
            self._frame.text(text, 0, row * 8, 1)

    def show(self):
        """Sends the framebuffer, page by page (page addressing mode)."""
        view, cmd, page = memoryview(self._buffer), self._command, self._page
        for p in range(_PAGES):
            cmd[1], cmd[2], cmd[3] = 0xB0 | p, 0x00, 0x10  # page p, column 0
            self._i2c.writeto(self._address, cmd)
            page[1:] = view[p * _WIDTH : (p + 1) * _WIDTH]
            self._i2c.writeto(self._address, page)
