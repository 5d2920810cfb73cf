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


# -- PWM and pin interrupts (lib-switches)
# What a test sees of a node that runs as its own process, through files named by environment
# variables (unset: nothing is written or read):
#   FAKE_MACHINE_LOG     every output level and PWM setting is appended as "<pin> <what> <value>"
#                        ("5 out 1" when the pin is made, "5 level 0", "6 duty 32768", "6 freq 1000")
#   FAKE_MACHINE_FAULTS  the pins listed there (whitespace-separated) raise OSError on every write
#   FAKE_MACHINE_INPUTS  lines "<pin> <level>": what an input pin reads (a pin's last line wins)
# In-process tests read `writes` and fill `faults` and `inputs` instead. (No Pin.irq: the
# button component polls.)
writes = []  # (pin, what, value) of every write, in order
faults = set()  # pins whose writes raise OSError
inputs = {}  # pin -> level an input pin reads


def _env(name):
    import os

    try:
        return os.getenv(name)
    except AttributeError:
        return None


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
            if self.mode == _PlainPin.IN:
                level = _input(self.pin)
                if level is not None:
                    return level
            return self._value
        _write(self.pin, "level", 1 if v else 0)
        self._value = 1 if v else 0

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


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
