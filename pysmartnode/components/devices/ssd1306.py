"""An SSD1306 128x64 OLED on I2C showing sensor values of the node, one per line with a label,
redrawn every `interval` seconds.

Up to 8 lines of 16 characters (MicroPython's 8x8 font): `<label> <value>`, `--` while a
sensor has no value. The text is drawn with MicroPython's `framebuf` (boards and the unix
port); CPython has no `framebuf`, so there the display is initialised and cleared but no text
is drawn (logged once as an error). An absent display (no ACK, `ENODEV`) is logged once per
streak, the node runs on, and the display is initialised again when it answers.

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
        self._lines = _lines(sensors, sensor_types, labels, _PAGES)
        if address not in (0x3C, 0x3D):
            raise ValueError("SSD1306 address must be 60 (0x3C) or 61 (0x3D), got %r" % (address,))
        if not (isinstance(interval, (int, float)) and interval > 0):
            raise ValueError("interval must be seconds > 0, got %r" % (interval,))
        self._format = "%%s %%.%df" % int(decimals)  # "<label> <value>"
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
        texts = []
        for sensor, sensor_type, label in self._lines:
            value = await sensor.getValue(sensor_type)
            texts.append(_text(self._format, label, value, 16))
        self._draw(texts)
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

    def _draw(self, texts):
        if self._frame is None:
            try:
                import framebuf
            except ImportError:
                self._frame = False
                self._log.error("no framebuf on this runtime (CPython?): no text is drawn")
            else:
                self._frame = framebuf.FrameBuffer(self._buffer, _WIDTH, 64, framebuf.MONO_VLSB)
        if self._frame:
            self._frame.fill(0)
            for row, text in enumerate(texts):
                self._frame.text(text, 0, row * 8, 1)

    def show(self):
        """Sends the framebuffer, page by page (page addressing mode)."""
        view, cmd, page = memoryview(self._buffer), self._command, self._page
        for p in range(_PAGES):
            cmd[1], cmd[2], cmd[3] = 0xB0 | p, 0x00, 0x10  # page p, column 0
            self._i2c.writeto(self._address, cmd)
            page[1:] = view[p * _WIDTH : (p + 1) * _WIDTH]
            self._i2c.writeto(self._address, page)


def _lines(sensors, sensor_types, labels, most):
    """[(sensor, type, label)] checked: ValueError naming the key that is wrong."""
    if not isinstance(sensors, list) or not 0 < len(sensors) <= most:
        raise ValueError('sensors must be a list of 1 to %d {"ref": "<config key>"}' % most)
    for key, given in (("sensor_types", sensor_types), ("labels", labels)):
        if given is not None and (not isinstance(given, list) or len(given) != len(sensors)):
            raise ValueError("%s must be a list as long as sensors" % key)
    lines = []
    for i, sensor in enumerate(sensors):
        if not hasattr(sensor, "getValue"):
            raise ValueError('sensors[%d] must be a sensor: {"ref": "<its config key>"}' % i)
        sensor_type = sensor_types[i] if sensor_types else None
        if sensor_type is None:
            types = sensor.sensor_types
            if len(types) != 1:
                raise ValueError("sensor_types[%d]: %s has %s" % (i, sensor.name, ", ".join(types)))
            sensor_type = types[0]
        sensor.getTopic(sensor_type)  # ValueError if it has no such type
        lines.append((sensor, sensor_type, str(labels[i]) if labels else sensor.name))
    return lines


def _text(form, label, value, width):
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        return (form % (label, value))[:width]
    return ("%s %s" % (label, "--" if value is None else value))[:width]
