# A fake of MicroPython's `onewire` driver (drivers/onewire/onewire.py): the same methods, with
# the DS18B20s of fake_chips.py on every bus. Fault "enodev" for "ow:pin<n>" leaves the bus
# without a presence pulse; a fault for "ow:<rom hex>" is that sensor's (see fake_chips).
import fake_chips


class OneWireError(Exception):
    pass


class OneWire:
    SEARCH_ROM = 0xF0
    MATCH_ROM = 0x55
    SKIP_ROM = 0xCC

    def __init__(self, pin):
        self.pin = pin
        self._state = None  # what the next bytes mean: "rom", "match", "function", "read"
        self._matched = None  # the ROM selected, or True after SKIP ROM
        self._pending = b""
        self._out = b""
        self.conversions = 0

    def reset(self, required=False):
        present = fake_chips.setting("ow:pin%s" % self.pin.pin) != "enodev"
        if required and not present:
            raise OneWireError
        self._state, self._matched, self._pending, self._out = "rom", None, b"", b""
        return present

    def writebyte(self, value):
        self.write(bytes((value,)))

    def write(self, buf):
        for b in bytes(buf):
            if self._state == "rom":
                if b == self.SKIP_ROM:
                    self._matched, self._state = True, "function"
                elif b == self.MATCH_ROM:
                    self._state, self._pending = "match", b""
            elif self._state == "match":
                self._pending += bytes((b,))
                if len(self._pending) == 8:
                    self._matched, self._state = self._pending, "function"
            elif self._state == "function":
                if b == 0x44:  # Convert T
                    self.conversions += 1
                elif b == 0xBE:  # Read Scratchpad
                    self._out = self._scratchpad()
                self._state = None

    def _scratchpad(self):
        if self._matched is True:  # every sensor answers at once: a wired AND of their bytes
            out = b"\xff" * 9
            for rom in fake_chips.ds18b20_roms():
                pad = fake_chips.ds18b20_scratchpad(rom)
                out = bytes(out[i] & pad[i] for i in range(9))
            return out
        return fake_chips.ds18b20_scratchpad(self._matched)

    def readbyte(self):
        buf = bytearray(1)
        self.readinto(buf)
        return buf[0]

    def readbit(self):
        return 1

    def readinto(self, buf):
        for i in range(len(buf)):
            buf[i] = self._out[0] if self._out else 0xFF
            self._out = self._out[1:]

    def select_rom(self, rom):
        self.reset()
        self.writebyte(self.MATCH_ROM)
        self.write(rom)

    def scan(self):
        if not self.reset():
            return []
        return [bytearray(rom) for rom in fake_chips.ds18b20_roms()]

    def crc8(self, data):
        return fake_chips.crc8_maxim(data)
