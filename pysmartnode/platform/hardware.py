"""Hardware for components: pins, PWM, ADC and buses, by GPIO number or board pin name.

Components take their hardware from here (`from pysmartnode.platform import i2c`), never from
`machine` directly: one place knows the port's classes, buses are shared by every component on
the same pins, and tests put a fake `machine` on the path (tests/fakes/). CPython and the unix
port have no `machine.Pin`: every call there raises OSError saying so.

    pin(p, out=False, pull=None, value=None)   machine.Pin; p is 4, "4", "D4" or "GP15"
    signal(p, active_high=True)                machine.Signal on an output pin, starting off
    pwm(p, freq, duty_u16=0)                   machine.PWM on an output pin
    adc(p)                                     machine.ADC on a pin
    i2c(sda, scl, freq=100000)                 one shared (Soft)I2C per pin pair
    spi(sck, mosi, miso, baudrate=1000000)     one shared (Soft)SPI per pin triple
    uart(bus, tx=None, rx=None, baudrate=9600) machine.UART (hardware buses only)
    onewire(p)                                 onewire.OneWire on a pin
    neopixel(p, n, bpp=3)                      neopixel.NeoPixel: n WS2812 LEDs on a pin
    deepsleep_function()                       machine.deepsleep (takes ms)

A bus made once is handed out again to the next component naming the same pins (with the first
component's frequency): two sensors on one I2C bus share it instead of fighting over the pins.
"""


def _machine():
    try:
        import machine
    except ImportError:
        machine = None
    if not hasattr(machine, "Pin"):  # the unix port's `machine` has memory access only
        raise OSError("no hardware on this platform: it has no machine.Pin")
    return machine


def pin_id(p):
    """p as machine.Pin takes it: a number (also "4") stays a number, a board name a string."""
    if isinstance(p, str) and p.isdigit():
        return int(p)
    if not isinstance(p, (int, str)):
        raise ValueError("a pin is a GPIO number or a board pin name, not %r" % (p,))
    return p


def pin(p, out=False, pull=None, value=None):
    """A machine.Pin: input (pull "up" or "down"), or output starting at value when given."""
    m = _machine()
    Pin = m.Pin
    if out:
        if value is None:
            return Pin(pin_id(p), Pin.OUT)
        return Pin(pin_id(p), Pin.OUT, value=1 if value else 0)  # never a glitch to the wrong level
    if pull is None:
        return Pin(pin_id(p), Pin.IN)
    if pull not in ("up", "down"):
        raise ValueError("pull is 'up', 'down' or None, not %r" % (pull,))
    return Pin(pin_id(p), Pin.IN, Pin.PULL_UP if pull == "up" else Pin.PULL_DOWN)


def signal(p, active_high=True):
    """A machine.Signal: on() lights an LED (or drives a load) however it is wired, off() not.
    The pin starts at the off level, so it never flashes on while it is set up."""
    m = _machine()
    off = 0 if active_high else 1
    return m.Signal(m.Pin(pin_id(p), m.Pin.OUT, value=off), invert=not active_high)


def pwm(p, freq, duty_u16=0):
    """A machine.PWM on pin p."""
    m = _machine()
    return m.PWM(m.Pin(pin_id(p), m.Pin.OUT), freq=freq, duty_u16=duty_u16)


def adc(p):
    """A machine.ADC on pin p (read_u16() gives 0..65535 on every port)."""
    m = _machine()
    return m.ADC(m.Pin(pin_id(p)))


def _shared(key, make):
    from pysmartnode import node

    buses = node.parts.get("buses")
    if buses is None:
        buses = node.parts["buses"] = {}
    bus = buses.get(key)
    if bus is None:
        bus = buses[key] = make()
    return bus


def i2c(sda, scl, freq=100000):
    """The I2C bus on these pins (SoftI2C where the port has it), shared by all its users."""
    m = _machine()
    cls = getattr(m, "SoftI2C", None) or m.I2C
    sda, scl = pin_id(sda), pin_id(scl)
    return _shared(("i2c", sda, scl), lambda: cls(sda=m.Pin(sda), scl=m.Pin(scl), freq=freq))


def spi(sck, mosi, miso, baudrate=1000000):
    """The SPI bus on these pins (SoftSPI where the port has it), shared by all its users."""
    m = _machine()
    cls = getattr(m, "SoftSPI", None) or m.SPI
    sck, mosi, miso = pin_id(sck), pin_id(mosi), pin_id(miso)
    return _shared(
        ("spi", sck, mosi, miso),
        lambda: cls(baudrate=baudrate, sck=m.Pin(sck), mosi=m.Pin(mosi), miso=m.Pin(miso)),
    )


def uart(bus, tx=None, rx=None, baudrate=9600):
    """machine.UART number bus; tx and rx pins where the port lets them be chosen."""
    m = _machine()
    if tx is None and rx is None:
        return _shared(("uart", bus), lambda: m.UART(bus, baudrate=baudrate))
    tx, rx = pin_id(tx), pin_id(rx)
    return _shared(
        ("uart", bus), lambda: m.UART(bus, baudrate=baudrate, tx=m.Pin(tx), rx=m.Pin(rx))
    )


def onewire(p):
    """The 1-Wire bus on pin p, shared (several DS18B20 on one pin)."""
    m = _machine()
    try:
        import onewire
    except ImportError:
        raise OSError("no 1-Wire on this platform: it has no `onewire` module") from None
    p = pin_id(p)
    return _shared(("onewire", p), lambda: onewire.OneWire(m.Pin(p)))


def neopixel(p, n, bpp=3):
    """A neopixel.NeoPixel of n LEDs (bpp 3: RGB, 4: RGBW) on pin p."""
    m = _machine()
    try:
        import neopixel
    except ImportError:
        raise OSError("no NeoPixel driver on this platform: it has no `neopixel` module") from None
    return neopixel.NeoPixel(m.Pin(pin_id(p), m.Pin.OUT), n, bpp=bpp)


def deepsleep_function():
    """machine.deepsleep, which takes milliseconds; OSError where the port has none."""
    f = getattr(_machine(), "deepsleep", None)
    if f is None:
        raise OSError("no deep sleep on this platform: machine has no deepsleep()")
    return f
