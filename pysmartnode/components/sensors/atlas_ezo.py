"""Atlas Scientific EZO pH or EC (conductivity, published in mS/cm) circuit, on I2C or UART,
temperature compensated from another sensor of the node.

Each reading sends `RT,<°C>` (read with that temperature; plain `R` while the temperature
sensor has no value) and awaits the circuit (900 ms pH, 600 ms EC). An error code, a reply that
is no number (`nan`) or out of range (pH 0..14, EC >= 0) is a failed reading. On UART the
circuit's continuous mode is turned off first (`C,0`) and stale lines are dropped before each
command.

Example config (hjson):
    tank_ph: {
        package: .sensors.atlas_ezo
        component: AtlasEZO
        constructor_args: {
            kind: "ph"              # "ph" or "ec"
            sda: 21                 # I2C: GPIO of the data line
            scl: 22                 # I2C: GPIO of the clock line
            address: 99             # optional, I2C: default 99 (0x63) pH, 100 (0x64) EC
            # temperature: {ref: "tank"}  # optional: a sensor giving °C, for compensation
            # temperature_type: "tank"    # optional: its sensor type, default its only one
            interval_reading: 30    # optional, seconds (ComponentSensor)
        }
    }
    tank_ec: {
        package: .sensors.atlas_ezo
        component: AtlasEZO
        constructor_args: {
            kind: "ec"              # "ph" or "ec"
            uart: 2                 # UART: the bus number (instead of sda/scl)
            tx: 17                  # optional, UART: GPIO of TX where the port lets you choose
            rx: 16                  # optional, UART: GPIO of RX
        }
    }
"""

import asyncio

from pysmartnode.platform.hardware import i2c
from pysmartnode.platform.hardware import uart as uart_bus
from pysmartnode.utils.component import SENSOR_PH, ComponentSensor

_WAIT_PH = 0.9  # seconds a reading takes (datasheets)
_WAIT_EC = 0.6


class AtlasEZO(ComponentSensor):
    def __init__(self, name, kind, sda=None, scl=None, address=None, uart=None, tx=None, rx=None,
                 temperature=None, temperature_type=None, **kwargs):  # fmt: skip
        super().__init__(name, **kwargs)
        if kind not in ("ph", "ec"):
            raise ValueError('kind must be "ph" or "ec", got %r' % (kind,))
        if (uart is None) == (sda is None or scl is None):
            raise ValueError("give either sda and scl (I2C) or uart (UART)")
        if temperature is not None and not hasattr(temperature, "getValue"):
            raise ValueError('temperature must be a sensor: {"ref": "<its config key>"}')
        self._kind = kind
        self._address = address or (0x63 if kind == "ph" else 0x64)
        self._uart_number = uart
        self._pins = (sda, scl, tx, rx)
        self._bus = None
        self._continuous_off = False
        self._temperature = temperature
        self._temperature_type = temperature_type
        if kind == "ph":
            self._type = SENSOR_PH
            self._add_sensor_type(SENSOR_PH, precision=2)
        else:
            self._type = "conductivity"
            # mS/cm: Home Assistant spells µS/cm with a micro sign before 2025.x, a Greek mu after
            self._add_sensor_type("conductivity", unit="mS/cm", precision=3)
        self._open()

    def _open(self):
        sda, scl, tx, rx = self._pins
        if self._uart_number is None:
            self._bus = i2c(sda, scl)
        else:
            self._bus = uart_bus(self._uart_number, tx, rx, baudrate=9600)

    def _wait(self):
        return _WAIT_PH if self._kind == "ph" else _WAIT_EC

    async def _command(self, text):
        """The circuit's reply to a command, as text."""
        if self._uart_number is None:
            self._bus.writeto(self._address, text.encode())
            await asyncio.sleep(self._wait())
            reply = self._bus.readfrom(self._address, 32)
            if reply[0] != 1:  # 2 syntax error, 254 still processing, 255 no data
                raise OSError("EZO %s answered code %d to %s" % (self._kind, reply[0], text))
            return reply[1:].split(b"\x00", 1)[0].decode()
        bus = self._bus
        if not self._continuous_off:
            bus.write(b"C,0\r")  # continuous mode is the factory setting on UART
            await asyncio.sleep(0.3)
            self._continuous_off = True
        bus.read()  # drop what came before the command
        bus.write(text.encode() + b"\r")
        await asyncio.sleep(self._wait())
        lines = (bus.read() or b"").decode().split("\r")
        for line in lines:
            if line == "*ER":
                raise OSError("EZO %s answered *ER (error) to %s" % (self._kind, text))
            if line and not line.startswith("*"):
                return line
        raise OSError("EZO %s did not answer %s" % (self._kind, text))

    async def _read(self):
        command = "R"
        if self._temperature is not None:
            t = await self._temperature.getValue(self._temperature_type)
            if t is not None:
                command = "RT,%.1f" % t
        text = await self._command(command)
        try:
            value = float(text.split(",")[0])
        except ValueError:
            raise OSError("EZO %s reply is no number: %r" % (self._kind, text[:20])) from None
        low, high = (0, 14) if self._kind == "ph" else (0, 1000000)
        if not low <= value <= high:  # also false for nan
            raise ValueError(
                "EZO %s reading %s out of range %s..%s" % (self._kind, value, low, high)
            )
        self._set_value(self._type, value if self._kind == "ph" else value / 1000)
