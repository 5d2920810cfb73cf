# Simulated chips behind the fake buses of tests/fakes (machine.py, onewire.py, dht.py), with
# datasheet-realistic bytes, and the faults real hardware gives, chosen per device.
#
# A device is named by a key: "i2c:<address>", "ow:<rom hex>", "dht:<pin>", "adc:<pin>",
# "spi:<cs pin>", "uart:<bus>", "pin:<pin>". Its fault (or, for pins and ADCs, its value) comes
# from FAULTS (in-process tests set it) or from the JSON file named by the environment variable
# FAKE_HARDWARE (a node is a real process: the test rewrites the file while it runs).
#   faults: "enodev" (no ACK / absent), "etimedout", "crc" (bad CRC or checksum), "range" (a
#   value the chip gives when something is wrong: BME280's skipped 0x80000, DS18B20's power-on
#   85 °C, a DHT22's 120 % humidity, an ADC at the rail), "error" (an Atlas EZO error code),
#   "short" (1-Wire or SPI line held low: all zero bytes), "float" (SPI MISO floating high).
import errno
import json
import os

FAULTS = {}


def _file():
    path = os.getenv("FAKE_HARDWARE")
    if not path:
        return {}
    try:
        with open(path) as f:
            return json.loads(f.read() or "{}")
    except (OSError, ValueError):
        return {}


def setting(key, default=None):
    """The fault or value set for a device key (in-process dict first, then the file)."""
    if key in FAULTS:
        return FAULTS[key]
    return _file().get(key, default)


def raise_bus_fault(key):
    """Raises the OSError of an absent or stuck device; returns the fault otherwise."""
    fault = setting(key)
    if fault == "enodev":
        raise OSError(errno.ENODEV)
    if fault == "etimedout":
        raise OSError(errno.ETIMEDOUT)
    return fault


def crc8_maxim(data):
    # Dallas/Maxim 1-Wire CRC (x^8 + x^5 + x^4 + 1, reflected)
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def crc8_htu(data):
    # HTU21D / SHT2x CRC (x^8 + x^5 + x^4 + 1, not reflected, init 0)
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


# ---------------------------------------------------------------- I2C chips


class BME280:
    # Calibration of the Bosch BMP280 datasheet's worked example (T and P; BME280 uses the same
    # formulas) and humidity trimming as a real BME280 reports it
    T = (27504, 26435, -1000)
    P = (36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000)
    H = (75, 370, 0, 313, 50, 30)
    RAW_T, RAW_P, RAW_H = 519888, 415148, 27000  # 25.08 °C, 1006.53 hPa in the datasheet

    def __init__(self, address):
        self.key = "i2c:%d" % address
        self.regs = bytearray(256)
        self.regs[0xD0] = 0x60  # chip id
        cal = bytearray()
        for v in self.T + self.P:  # T1 and P1 unsigned, the rest signed: same bytes either way
            cal += (v & 0xFFFF).to_bytes(2, "little")
        self.regs[0x88 : 0x88 + len(cal)] = cal
        h1, h2, h3, h4, h5, h6 = self.H
        self.regs[0xA1] = h1
        self.regs[0xE1:0xE3] = (h2 & 0xFFFF).to_bytes(2, "little")
        self.regs[0xE3] = h3
        self.regs[0xE4] = (h4 >> 4) & 0xFF
        self.regs[0xE5] = (h4 & 0x0F) | ((h5 & 0x0F) << 4)
        self.regs[0xE6] = (h5 >> 4) & 0xFF
        self.regs[0xE7] = h6 & 0xFF
        self.polls = 0

    def write(self, data):
        reg = data[0]
        for i, b in enumerate(data[1:]):
            self.regs[reg + i] = b
        if reg == 0xF4 and data[1:] and data[1] & 3 == 1:  # forced mode: measure once
            self.polls = 1
            t, p, h = self.RAW_T, self.RAW_P, self.RAW_H
            if setting(self.key) == "range":
                t, p, h = 0x80000, 0x80000, 0x8000  # "measurement skipped" values
            self.regs[0xF7:0xFA] = bytes(((p >> 12) & 0xFF, (p >> 4) & 0xFF, (p << 4) & 0xF0))
            self.regs[0xFA:0xFD] = bytes(((t >> 12) & 0xFF, (t >> 4) & 0xFF, (t << 4) & 0xF0))
            self.regs[0xFD:0xFF] = bytes(((h >> 8) & 0xFF, h & 0xFF))
            self.regs[0xF4] = data[1] & 0xFC  # back to sleep once done

    def read(self, reg, n):
        if reg == 0xF3:  # status: measuring on the first poll after a trigger
            busy = self.polls > 0
            self.polls = 0
            return bytes((0x08 if busy else 0,))
        return bytes(self.regs[reg : reg + n])


class HTU21D:
    RAW_T, RAW_H = 0x683A, 0x4E85  # the datasheet's examples: 24.7 °C, 32.3 %RH

    def __init__(self, address):
        self.key = "i2c:%d" % address
        self.out = b""

    def write(self, data):
        if data[0] in (0xE3, 0xF3):
            raw = self.RAW_T
        elif data[0] in (0xE5, 0xF5):
            raw = self.RAW_H | 0x02  # status bit 1: a humidity measurement
        else:
            self.out = b""
            return
        word = bytes((raw >> 8, raw & 0xFF))
        crc = crc8_htu(word)
        if setting(self.key) == "crc":
            crc ^= 0x5A
        self.out = word + bytes((crc,))

    def read(self, reg, n):
        return self.out[:n]


class BH1750:
    RAW = 0x1F40  # 8000 counts: 6666.7 lx

    def __init__(self, address):
        self.out = b""

    def write(self, data):
        if data[0] in (0x10, 0x11, 0x13, 0x20, 0x21, 0x23):  # a measurement mode
            self.out = bytes((self.RAW >> 8, self.RAW & 0xFF))

    def read(self, reg, n):
        return self.out[:n]


class AtlasEZO:
    # Atlas Scientific EZO circuit in I2C mode: status byte then ASCII, NUL-padded
    def __init__(self, address, kind):
        self.key = "i2c:%d" % address
        self.kind = kind
        self.out = b"\xff"  # 255: no data
        self.commands = []

    def answer(self, command):
        # The solution is at 20 °C; the circuit compensates to the temperature it is given
        # (25 °C when a plain "R" gives none)
        self.commands.append(command)
        word = command.split(",")[0].upper()
        if word not in ("R", "RT"):
            return b"*OK" if word in ("C", "T") else b"*ER"
        t = float(command.split(",")[1]) if word == "RT" else 25.0
        if self.kind == "ph":  # a pH 7.00 buffer; the Nernst slope shifts the reading by t
            return ("%.3f" % (7.0 + (t - 20.0) * 0.004)).encode()
        raw = 1413.0 * (1 + 0.02 * (20.0 - 25.0))  # a 1413 µS/cm standard, as seen at 20 °C
        ec = raw / (1 + 0.02 * (t - 25.0))
        return ("%.2f,%d,%.2f,%.3f" % (ec, int(ec / 2), ec / 2000, 1.0)).encode()

    def write(self, data):
        text = bytes(data).decode()
        reply = self.answer(text)
        fault = setting(self.key)
        if fault == "error":
            self.out = b"\x02"  # 2: syntax error
        elif fault == "range":
            self.out = b"\x01" + b"nan"
        else:
            self.out = b"\x01" + reply + b"\x00"

    def read(self, reg, n):
        return (self.out + b"\x00" * n)[:n]


def i2c_device(address, made):
    if address not in made:
        if address in (0x76, 0x77):
            made[address] = BME280(address)
        elif address == 0x40:
            made[address] = HTU21D(address)
        elif address in (0x23, 0x5C):
            made[address] = BH1750(address)
        elif address == 0x63:
            made[address] = AtlasEZO(address, "ph")
        elif address == 0x64:
            made[address] = AtlasEZO(address, "ec")
        elif address in (0x3C, 0x3D):  # displays: see the block "devices" below
            made[address] = SSD1306(address)
        elif address in (0x27, 0x3F):
            made[address] = LCD1602(address)
        else:
            return None
    return made[address]


# ---------------------------------------------------------------- 1-Wire DS18B20

# Three sensors on every bus, with ROMs whose last byte is their CRC: family 0x28, serial, CRC
_SERIALS = (b"\xff\x4a\x1c\x82\x16\x04", b"\xff\x9e\x33\x61\x16\x03", b"\x01\x02\x03\x04\x05\x06")
_TEMPERATURES = (21.5, -10.125, 85.0)  # the third really at 85 °C (a hot pipe)


def ds18b20_roms():
    roms = []
    for serial in _SERIALS:
        body = b"\x28" + serial
        roms.append(body + bytes((crc8_maxim(body),)))
    return roms


def ds18b20_scratchpad(rom):
    """The 9 bytes a Read Scratchpad gives after a conversion (or a fault)."""
    fault = setting("ow:" + "".join("%02x" % b for b in rom))
    if fault == "short":
        return bytes(9)
    if fault == "enodev":
        return b"\xff" * 9
    roms = ds18b20_roms()
    if bytes(rom) not in roms:
        return b"\xff" * 9  # nobody answers: the pull-up reads as ones
    index = roms.index(bytes(rom))
    raw = int(_TEMPERATURES[index] * 16) & 0xFFFF
    count_remain = 0x10 - (raw & 0x0F)
    if fault == "range":  # power-on reset value: no conversion happened (a brown-out)
        raw, count_remain = 0x0550, 0x0C
    body = bytes((raw & 0xFF, raw >> 8, 0x4B, 0x46, 0x7F, 0xFF, count_remain, 0x10))
    crc = crc8_maxim(body)
    if fault == "crc":
        crc ^= 0x21
    return body + bytes((crc,))


# ---------------------------------------------------------------- DHT


def dht_bytes(pin, kind):
    """The 5 bytes a DHT11/DHT22 sends: 23.4 °C, 45.6 %RH (DHT11: 23 °C, 45 %)."""
    fault = raise_bus_fault("dht:%s" % pin)
    if kind == 11:
        data = bytes((45, 0, 23, 4))
    else:
        hum, temp = (1200, 234) if fault == "range" else (456, 234)
        data = bytes((hum >> 8, hum & 0xFF, temp >> 8, temp & 0xFF))
    check = sum(data) & 0xFF
    if fault == "crc":
        check ^= 0x01
    return data + bytes((check,))


# ---------------------------------------------------------------- ADC, SPI MCP3208, UART EZO


def adc_value(pin):
    """read_u16 of an ADC pin: the file's number for "adc:<pin>", else mid-scale-ish."""
    value = setting("adc:%s" % pin, 30000)
    if value == "range":
        return 65535
    raise_bus_fault("adc:%s" % pin)
    return int(value)


def mcp3208(cs, tx):
    """The bytes an MCP3208 clocks out for the 3 bytes tx (start, single-ended, channel)."""
    fault = raise_bus_fault("spi:%s" % cs)
    if fault == "short":
        return bytes(3)
    if fault == "float":
        return b"\xff\xff\xff"
    if not tx[0] & 0x04:  # no start bit: the chip stays silent (MISO high impedance, pulled up)
        return b"\xff\xff\xff"
    channel = ((tx[0] & 0x01) << 2) | (tx[1] >> 6)
    value = (channel * 500 + 100) & 0x0FFF  # channel 0: 100, 1: 600, ... 7: 3600
    # bit 4 of the second byte is the null bit (0), then B11..B8, then B7..B0
    return bytes((0xFF, (value >> 8) & 0x0F, value & 0xFF))


# ---------------------------------------------------------------- devices: displays on I2C
# SSD1306 (128x64 OLED) and an HD44780 16x2 LCD behind a PCF8574 backpack, decoding what the
# display driver sends the way the controller does. In-process, a test reads the chip from the
# bus (`bus._chips[60]`); a node (a process) writes each screen to the folder named by the
# environment variable FAKE_DISPLAYS: `i2c-60.bin` (the 1024 bytes of the SSD1306's RAM, page
# by page, then the display-on flag) and `i2c-39.txt` (the LCD's two lines).


def _dump(name, data):
    folder = os.getenv("FAKE_DISPLAYS")
    if folder:
        with open(folder + "/" + name, "wb") as f:
            f.write(data)


class SSD1306:
    _ARGS = {0x81: 1, 0x8D: 1, 0xA8: 1, 0xD3: 1, 0xD5: 1, 0xD9: 1, 0xDA: 1, 0xDB: 1, 0x20: 1,
             0x21: 2, 0x22: 2}  # fmt: skip

    def __init__(self, address):
        self.address = address
        self.ram = bytearray(1024)  # GDDRAM: 8 pages of 128 columns, bit 0 the top row
        self.on = False
        self.charge_pump = False
        self.addressing = 2  # page addressing after reset (datasheet)
        self.page = self.column = 0
        self.commands = []  # every command byte, in order

    def write(self, data):
        control, body = data[0], data[1:]
        if control == 0x40:  # data: into RAM at the page and column, column advancing
            for byte in body:
                self.ram[self.page * 128 + self.column] = byte
                self.column += 1
                if self.column == 128:
                    self.column = 0
                    if self.addressing == 0:
                        self.page = (self.page + 1) % 8
            _dump("i2c-%d.bin" % self.address, bytes(self.ram) + bytes((self.on,)))
        elif control in (0x00, 0x80):
            self._commands(body)
        else:
            raise OSError(5)  # EIO: a control byte the controller does not take

    def _commands(self, body):
        i = 0
        while i < len(body):
            c = body[i]
            args = body[i + 1 : i + 1 + self._ARGS.get(c, 0)]
            i += 1 + len(args)
            self.commands.append(c)
            if c in (0xAE, 0xAF):
                self.on = c == 0xAF
            elif c == 0x8D:
                self.charge_pump = args[0] == 0x14
            elif c == 0x20:
                self.addressing = args[0]
            elif 0xB0 <= c <= 0xB7:
                self.page = c - 0xB0
            elif c <= 0x0F:
                self.column = (self.column & 0xF0) | c
            elif c <= 0x1F:
                self.column = (self.column & 0x0F) | (c & 0x0F) << 4

    def read(self, reg, n):
        return bytes(n)


class LCD1602:
    # PCF8574 port bits: P0 RS, P1 RW, P2 E, P3 backlight, P4..P7 the HD44780's D4..D7
    def __init__(self, address):
        self.address = address
        self.port = 0
        self.four_bit = False  # 8-bit interface after power on (datasheet)
        self.high = None  # the first nibble of a byte, in 4-bit mode
        self.ddram = bytearray(b" " * 0x68)
        self.ac = 0  # address counter
        self.on = False
        self.two_lines = False
        self.backlight = False
        self.instructions = []

    def screen(self):
        """The two lines of 16 characters shown (blank while the display is off)."""
        if not self.on:
            return ["", ""]
        return [self.ddram[0:16].decode(), self.ddram[0x40:0x50].decode()]

    def write(self, data):
        for byte in data:
            falling = self.port & 0x04 and not byte & 0x04  # E high to low latches D4..D7
            self.port = byte
            self.backlight = bool(byte & 0x08)
            if falling:
                self._latch(byte >> 4, byte & 0x01)

    def _latch(self, nibble, rs):
        if not self.four_bit:
            self._execute(nibble << 4, rs)  # 8-bit mode: the low data lines are not wired
            return
        if self.high is None:
            self.high = nibble
            return
        value, self.high = self.high << 4 | nibble, None
        self._execute(value, rs)

    def _execute(self, value, rs):
        if rs:
            self.ddram[self.ac] = value
            self.ac = (self.ac + 1) % 0x68
            _dump("i2c-%d.txt" % self.address, "\n".join(self.screen()).encode())
            return
        self.instructions.append(value)
        if value & 0x80:
            self.ac = (value & 0x7F) % 0x68
        elif value & 0x40:  # CGRAM address: no custom characters here
            pass
        elif value & 0x20:  # function set: DL (8 bit) and N (two lines)
            self.four_bit = not value & 0x10
            self.two_lines = bool(value & 0x08)
        elif value & 0x08:
            self.on = bool(value & 0x04)
        elif value == 0x01:
            self.ddram[:] = b" " * 0x68
            self.ac = 0
        elif value & 0xFE == 0x02:
            self.ac = 0

    def read(self, reg, n):
        return bytes((self.port,)) * n
