"""DS18B20 temperature sensors on one 1-Wire bus, each by its ROM, read together.

One Convert T for the whole bus, then each sensor's scratchpad: the 750 ms conversion is an
`await`, the loop runs on. Name each sensor by its ROM (`roms`); without `roms` the bus is
scanned at the first reading and every sensor found becomes a type `t_<last 6 hex of the ROM>`
(the discovery is sent again then). A reading fails as a whole, and publishes nothing, when one
sensor's CRC is wrong, it gives the power-on value (85 °C, no conversion ran) or the bus reads
all zeros (held low) or all ones (the sensor is gone).

Example config (hjson):
    water_temp: {
        package: .sensors.ds18b20
        component: DS18B20
        constructor_args: {
            pin: 4                          # GPIO of the data line (4.7 kΩ pull-up to 3.3 V)
            roms: {                         # optional: type name -> ROM (16 hex digits);
                tank: "28ff4a1c8216043c"    #   default: every sensor on the bus, found
                pipe: "28ff9e3361160337"    #   at the first reading
            }
            interval_reading: 10            # optional, seconds (ComponentSensor), >= 1
        }
    }
"""

import asyncio

from pysmartnode.platform import const
from pysmartnode.platform.hardware import onewire
from pysmartnode.utils.component import ComponentSensor

_CONVERT_T = const(0x44)
_READ_SCRATCHPAD = const(0xBE)
_SKIP_ROM = const(0xCC)
_CONVERSION_S = 0.75  # datasheet: 750 ms at 12 bits


def crc8(data):
    """Dallas/Maxim CRC-8 (x^8 + x^5 + x^4 + 1, reflected); 0 over data plus its CRC."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def _hex(rom):
    return "".join("%02x" % b for b in rom)


def parse_rom(text):
    """A ROM from 16 hex digits, checked (family 0x28 and CRC)."""
    try:
        rom = bytes(int(text[i : i + 2], 16) for i in range(0, 16, 2))
    except (TypeError, ValueError):
        rom = b""
    if len(text) != 16 or len(rom) != 8 or rom[0] != 0x28 or crc8(rom):
        raise ValueError("%r is no DS18B20 ROM: want 16 hex digits starting 28, CRC last" % text)
    return rom


def celsius(pad):
    """°C from a 9-byte scratchpad; OSError when the bytes say the reading is not real."""
    if pad == b"\x00" * 9:
        raise OSError("1-Wire bus held low (all zero bytes): check wiring")
    if pad == b"\xff" * 9:
        raise OSError("no answer (all ones): sensor gone or not powered")
    if crc8(pad):
        raise OSError("CRC mismatch (noise, long wire or a weak pull-up)")
    raw = pad[1] << 8 | pad[0]
    if raw == 0x0550 and pad[6] == 0x0C:
        raise OSError("power-on value 85 °C: the conversion did not run (power supply?)")
    if raw & 0x8000:
        raw -= 0x10000
    return raw / 16


class DS18B20(ComponentSensor):
    def __init__(self, name, pin, roms=None, **kwargs):
        super().__init__(name, **kwargs)
        if roms is not None and (not isinstance(roms, dict) or not roms):
            raise ValueError("roms must be {name: ROM hex}, got %r" % (roms,))
        self._bus = onewire(pin)
        self._pad = bytearray(9)  # reused by every reading
        self._roms = {}
        for sensor_type, text in (roms or {}).items():
            self._roms[sensor_type] = parse_rom(text)
            self._add_sensor_type(sensor_type, unit="°C", device_class="temperature")

    async def _read(self):
        bus = self._bus
        if not self._roms:
            self._find()
        if not bus.reset():
            raise OSError("no presence pulse on the 1-Wire bus: no sensor answers")
        bus.write(bytes((_SKIP_ROM, _CONVERT_T)))  # every sensor converts at once
        await asyncio.sleep(_CONVERSION_S)
        for sensor_type, rom in self._roms.items():
            bus.select_rom(rom)
            bus.write(bytes((_READ_SCRATCHPAD,)))
            bus.readinto(self._pad)
            try:
                value = celsius(bytes(self._pad))
            except OSError as e:
                raise OSError("%s (%s): %s" % (sensor_type, _hex(rom), e)) from None
            self._set_value(sensor_type, value)

    def _find(self):
        roms = [bytes(r) for r in self._bus.scan() if r[0] == 0x28 and not crc8(r)]
        if not roms:
            raise OSError("no DS18B20 found on the 1-Wire bus")
        for rom in roms:
            sensor_type = "t_" + _hex(rom)[-6:]
            self._roms[sensor_type] = rom
            self._add_sensor_type(sensor_type, unit="°C", device_class="temperature")
        from pysmartnode import node

        if self.discover and node.discovery is not None:
            node.discovery.refresh()  # the found sensors become entities
