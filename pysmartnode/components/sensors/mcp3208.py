"""MCP3208: 8-channel 12-bit ADC on SPI; each named channel is a sensor type, in volts.

Single-ended conversions, one 3-byte transfer per channel. The chip clocks a null bit (0) before
the result: a 1 there means nothing answered (MISO floating high, chip absent or unpowered), a
failed reading rather than 4095.

Example config (hjson):
    adc8: {
        package: .sensors.mcp3208
        component: MCP3208
        constructor_args: {
            sck: 18                 # GPIO of the clock
            mosi: 23                # GPIO to the chip's DIN
            miso: 19                # GPIO from the chip's DOUT
            cs: 5                   # GPIO of the chip select (active low)
            channels: {             # type name -> channel 0..7
                tank_level: 0
                light: 3
            }
            vref: 3.3               # optional, volts at 4095, default 3.3
            interval_reading: 10    # optional, seconds (ComponentSensor)
        }
    }
"""

from pysmartnode.platform.hardware import pin, spi
from pysmartnode.utils.component import SENSOR_VOLTAGE, ComponentSensor


class MCP3208(ComponentSensor):
    def __init__(self, name, sck, mosi, miso, cs, channels, vref=3.3, **kwargs):
        super().__init__(name, **kwargs)
        if not isinstance(channels, dict) or not channels:
            raise ValueError("channels must be {name: 0..7}, got %r" % (channels,))
        for sensor_type, channel in channels.items():
            if channel not in range(8):
                raise ValueError("channel of %s must be 0..7, got %r" % (sensor_type, channel))
            self._add_sensor_type(sensor_type, unit="V", precision=3, device_class=SENSOR_VOLTAGE)
        self._channels = channels
        self._scale = vref / 4095
        self._bus = spi(sck, mosi, miso, baudrate=1000000)  # 1 MHz: fine at 2.7 V and up
        self._cs = pin(cs, out=True, value=1)
        self._tx = bytearray(3)
        self._rx = bytearray(3)

    def raw(self, channel):
        """The 12-bit conversion of one channel (0..4095)."""
        self._tx[0] = 0x06 | channel >> 2  # start bit, single-ended, D2
        self._tx[1] = (channel & 3) << 6  # D1, D0
        self._tx[2] = 0
        self._cs.value(0)
        try:
            self._bus.write_readinto(self._tx, self._rx)
        finally:
            self._cs.value(1)
        if self._rx[1] & 0x10:
            raise OSError("no answer from the MCP3208 (null bit high): check CS, power, wiring")
        return (self._rx[1] & 0x0F) << 8 | self._rx[2]

    async def _read(self):
        for sensor_type, channel in self._channels.items():
            self._set_value(sensor_type, self.raw(channel) * self._scale)
