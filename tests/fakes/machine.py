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
