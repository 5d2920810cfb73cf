# A fake of MicroPython's `machine` for tests on the unix port and CPython: no hardware, just state
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

resets = []
cause = PWRON_RESET


def unique_id():
    return b"\x12\x34\xab\xcd"


def reset_cause():
    return cause


def reset():
    resets.append(True)


class Pin:
    OUT = 1
    IN = 0
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, pin, mode=IN, pull=None, value=None):
        self.pin = pin
        self.mode = mode
        self.pull = pull
        self._value = 0 if value is None else (1 if value else 0)

    def value(self, v=None):
        if v is None:
            return self._value
        self._value = 1 if v else 0

    def on(self):
        self._value = 1

    def off(self):
        self._value = 0


class Signal:
    def __init__(self, pin, invert=False):
        self.pin = pin
        self.invert = invert

    def on(self):
        self.pin.value(0 if self.invert else 1)

    def off(self):
        self.pin.value(1 if self.invert else 0)


class Timer:
    PERIODIC = 1
    ONE_SHOT = 0
    made = []

    def __init__(self, timer_id):
        self.timer_id = timer_id
        self.callback = None
        self.period = None
        Timer.made.append(self)

    def init(self, period=None, mode=PERIODIC, callback=None):
        self.period = period
        self.callback = callback

    def fire(self):
        self.callback(self)

    def deinit(self):
        self.callback = None


# -- buses and converters (lib-sensors)
# I2C, SPI, UART and ADC answer from the chips simulated in fake_chips.py (faults per device,
# set by the test); input pins read the value set for "pin:<n>"; Pin.irq makes pulses at the
# rate set for "pin:<n>" (per second) from an asyncio task.
IRQ_FALLING = 1
IRQ_RISING = 2
_selected = [None]  # the output pin last driven low: the SPI chip select


def _pin_value(self, v=None, _plain=Pin.value):
    if v is None and self.mode == Pin.IN:
        import fake_chips

        level = fake_chips.setting("pin:%s" % self.pin)
        if isinstance(level, int) and level in (0, 1):
            return level
    if v is not None and self.mode == Pin.OUT and not v:
        _selected[0] = self.pin
    return _plain(self, v)


def _pin_irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, hard=False):
    import asyncio

    task = getattr(self, "_pulses", None)
    if task is not None:
        task.cancel()
        self._pulses = None
    if handler is not None:
        self._pulses = asyncio.create_task(_pulse(self, handler))


async def _pulse(pin, handler):
    import asyncio

    import fake_chips

    owed = 0.0
    while True:
        await asyncio.sleep(0.05)
        rate = fake_chips.setting("pin:%s" % pin.pin, 0)
        owed += (rate if isinstance(rate, (int, float)) else 0) * 0.05
        while owed >= 1:
            owed -= 1
            handler(pin)


Pin.IRQ_FALLING = IRQ_FALLING
Pin.IRQ_RISING = IRQ_RISING
Pin.value = _pin_value
Pin.irq = _pin_irq


class SoftI2C:
    def __init__(self, scl=None, sda=None, freq=100000, timeout=50000):
        self.freq = freq
        self._chips = {}

    def _chip(self, addr):
        import fake_chips

        fake_chips.raise_bus_fault("i2c:%d" % addr)
        chip = fake_chips.i2c_device(addr, self._chips)
        if chip is None:
            raise OSError(19)  # ENODEV: no ACK
        return chip

    def scan(self):
        found = []
        for addr in range(0x08, 0x78):
            try:
                self._chip(addr)
                found.append(addr)
            except OSError:
                pass
        return found

    def writeto(self, addr, buf, stop=True):
        self._chip(addr).write(bytes(buf))
        return len(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self._chip(addr).write(bytes((memaddr,)) + bytes(buf))

    def readfrom_into(self, addr, buf, stop=True):
        data = self._chip(addr).read(None, len(buf))
        buf[: len(data)] = data

    def readfrom(self, addr, nbytes, stop=True):
        return bytes(self._chip(addr).read(None, nbytes))

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        data = self._chip(addr).read(memaddr, len(buf))
        buf[: len(data)] = data

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        return bytes(self._chip(addr).read(memaddr, nbytes))


I2C = SoftI2C


class SoftSPI:
    MSB = 0

    def __init__(self, baudrate=500000, polarity=0, phase=0, sck=None, mosi=None, miso=None):
        self.baudrate = baudrate

    def write_readinto(self, write_buf, read_buf):
        import fake_chips

        data = fake_chips.mcp3208(_selected[0], bytes(write_buf))
        read_buf[: len(write_buf)] = data[: len(write_buf)]

    def write(self, buf):
        pass

    def readinto(self, buf, write=0):
        self.write_readinto(bytes((write,)) * len(buf), buf)


SPI = SoftSPI


class UART:
    # An Atlas EZO circuit in UART mode: bus 1 a pH circuit, bus 2 an EC circuit; it starts in
    # continuous mode (a reading a second) until it gets "C,0"
    def __init__(self, bus, baudrate=9600, tx=None, rx=None, **kwargs):
        import fake_chips

        self.bus = bus
        self._ezo = fake_chips.AtlasEZO(bus, "ph" if bus == 1 else "ec")
        self._ezo.key = "uart:%d" % bus
        self._continuous = True
        self._out = b""
        self._line = b""

    def write(self, buf):
        import fake_chips

        fake_chips.raise_bus_fault(self._ezo.key)
        self._line += bytes(buf)
        while b"\r" in self._line:
            command, self._line = self._line.split(b"\r", 1)
            text = command.decode()
            if text.upper() == "C,0":
                self._continuous = False
            reply = self._ezo.answer(text)
            fault = fake_chips.setting(self._ezo.key)
            if fault == "error":
                self._out += b"*ER\r"
            elif fault == "range":
                self._out += b"nan\r*OK\r"
            elif reply.startswith(b"*"):
                self._out += reply + b"\r"
            else:
                self._out += reply + b"\r*OK\r"
        return len(buf)

    def any(self):
        return len(self._out) + (8 if self._continuous else 0)

    def read(self, nbytes=None):
        if self._continuous:  # what the circuit sent on its own since the last read
            self._out = self._ezo.answer("R") + b"\r" + self._out
        if not self._out:
            return None
        nbytes = len(self._out) if nbytes is None else nbytes
        data, self._out = self._out[:nbytes], self._out[nbytes:]
        return data


class ADC:
    ATTN_11DB = 3

    def __init__(self, pin, atten=None):
        self.pin = pin.pin if isinstance(pin, Pin) else pin

    def read_u16(self):
        import fake_chips

        return fake_chips.adc_value(self.pin)


# -- PWM and pin interrupts (lib-switches)
# What a test sees of a node that runs as its own process, through files named by environment
# variables (unset: nothing is written or read):
#   FAKE_MACHINE_LOG     every output level and PWM setting is appended as "<pin> <what> <value>"
#                        ("5 out 1" when the pin is made, "5 level 0", "6 duty 32768", "6 freq 1000")
#   FAKE_MACHINE_FAULTS  the pins listed there (whitespace-separated) raise OSError on every write
#   FAKE_MACHINE_INPUTS  lines "<pin> <level>": what an input pin reads (a pin's last line wins);
#                        each appended line that changes a level is an edge for Pin.irq (a burst
#                        of lines is a burst of edges, as a bouncing contact gives)
# In-process tests read `writes` and `reads` and fill `faults` and `inputs` instead; set_input()
# also fires the edge interrupt, as the level change of a real pin would.
# Pin.irq(handler, trigger, hard) calls handler(pin) on each edge of the trigger (besides the
# lib-sensors pulses above); with hard=True on MicroPython it runs under micropython.heap_lock(),
# so a handler that allocates fails as on a board. Its (de)registration is written as
# "<pin> irq <trigger>" ("<pin> irq 0" when removed), and while it is registered every read of
# the pin is logged as "<pin> read <level>" (not in `writes`: `reads` counts them in-process).
writes = []  # (pin, what, value) of every write, in order
stamps = []  # ms (a monotonic clock) of each write in `writes`: clear both together
faults = set()  # pins whose writes raise OSError
inputs = {}  # pin -> level an input pin reads
reads = {}  # pin -> how many times value() read the input pin
_edge_pins = []  # the Pins with an edge handler
_watching = [None, 0]  # the FAKE_MACHINE_INPUTS watcher task, lines of the file it has seen


def _env(name):
    import os

    try:
        return os.getenv(name)
    except AttributeError:
        return None


def _clock_ms():
    import time

    ticks = getattr(time, "ticks_ms", None)
    return ticks() if ticks is not None else time.monotonic() * 1000


def _write(pin, what, value):
    path = _env("FAKE_MACHINE_FAULTS")
    listed = ()
    if path:
        try:
            with open(path) as f:
                listed = f.read().split()
        except OSError:
            listed = ()
    if pin in faults or str(pin) in listed:
        raise OSError(5, "fake I/O error on pin %s" % (pin,))
    writes.append((pin, what, value))
    stamps.append(_clock_ms())
    _log(pin, what, value)


def _log(pin, what, value):
    path = _env("FAKE_MACHINE_LOG")
    if path:
        with open(path, "a") as f:
            f.write("%s %s %s\n" % (pin, what, value))


def _input(pin):
    path = _env("FAKE_MACHINE_INPUTS")
    if path:
        try:
            with open(path) as f:
                lines = f.read().split("\n")
        except OSError:
            lines = ()
        level = None
        for line in lines:
            parts = line.split()
            if len(parts) == 2 and parts[0] == str(pin):
                level = int(parts[1])
        if level is not None:
            return level
    return inputs.get(pin)


_PlainPin = Pin


class Pin(_PlainPin):  # noqa: F811  the plain Pin, its writes and inputs seen from outside
    def __init__(self, pin, mode=_PlainPin.IN, pull=None, value=None):
        super().__init__(pin, mode, pull, value)
        if mode == _PlainPin.OUT:
            _write(pin, "out", self._value)
        elif pull == _PlainPin.PULL_UP:
            self._value = 1  # an open input with its pull-up reads high

    def value(self, v=None):
        if v is None:
            reads[self.pin] = reads.get(self.pin, 0) + 1
            level = self._level()
            if self in _edge_pins:  # a pin woken by edges: its reads are logged too
                _log(self.pin, "read", level)
            return level
        _write(self.pin, "level", 1 if v else 0)
        super().value(1 if v else 0)  # also tracks the SPI chip select

    def _level(self):
        if self.mode == _PlainPin.IN:
            level = _input(self.pin)
            if level is not None:
                return level
        return super().value()  # the simulated chips' levels (lib-sensors' block above)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, hard=False):
        _PlainPin.irq(self, handler, trigger, hard)  # the rate pulses of lib-sensors
        if self in _edge_pins:
            _edge_pins.remove(self)
        _write(self.pin, "irq", trigger if handler is not None else 0)
        self._handler, self._trigger, self._hard = handler, trigger, hard
        if handler is None:
            return
        self._seen = self._level()
        _edge_pins.append(self)
        if _env("FAKE_MACHINE_INPUTS") and _watching[0] is None:
            import asyncio

            _watching[1] = max(len(_input_lines()) - 1, 0)  # the lines there now are no edge
            _watching[0] = asyncio.create_task(_watch_inputs())

    def _edge(self, level):
        if level == self._seen:
            return
        self._seen = level
        if not self._trigger & (IRQ_RISING if level else IRQ_FALLING):
            return
        if self._hard and _micropython is not None:  # a hard IRQ must not allocate
            _micropython.heap_lock()
            try:
                self._handler(self)
            finally:
                _micropython.heap_unlock()
        else:
            self._handler(self)


try:
    import micropython as _micropython
except ImportError:
    _micropython = None


def set_input(pin, level):
    """What input pin reads from now on; an edge interrupt fires at once if it changed."""
    inputs[pin] = level
    for p in list(_edge_pins):
        if p.pin == pin:
            p._edge(level)


def _input_lines():
    try:
        with open(_env("FAKE_MACHINE_INPUTS")) as f:
            return f.read().split("\n")
    except OSError:
        return []


async def _watch_inputs():
    # A node in its own process: every line appended to FAKE_MACHINE_INPUTS is a level change,
    # in order, while any pin has an edge handler
    import asyncio

    while _edge_pins:
        await asyncio.sleep(0.002)
        lines = _input_lines()
        if len(lines) < _watching[1]:  # rewritten: read it from the top
            _watching[1] = 0
        for line in lines[_watching[1] : len(lines) - 1]:  # the last is after the newline
            parts = line.split()
            if len(parts) == 2:
                for p in list(_edge_pins):
                    if str(p.pin) == parts[0]:
                        p._edge(int(parts[1]))
        _watching[1] = max(_watching[1], len(lines) - 1)
    _watching[0] = None


class PWM:
    def __init__(self, pin, freq=None, duty_u16=None):
        self.pin = pin
        self._freq = 0
        self._duty = 0
        if freq is not None:
            self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)

    def freq(self, f=None):
        if f is None:
            return self._freq
        _write(self.pin.pin, "freq", int(f))
        self._freq = int(f)

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        if not 0 <= d <= 65535:
            raise ValueError("duty_u16 must be 0..65535")
        _write(self.pin.pin, "duty", int(d))
        self._duty = int(d)

    def deinit(self):
        _write(self.pin.pin, "deinit", 0)


def deepsleep(ms=None):
    """Written as "sleep deepsleep <ms>"; returns at once (a board would reset on waking)."""
    _write("sleep", "deepsleep", ms)
