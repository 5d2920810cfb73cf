"""A switch on a Linux GPIO line through the character device (`/dev/gpiochipN`, the kernel's
v2 uAPI: a line request, then set-values ioctls), e.g. a relay on a Raspberry Pi.

The line is requested as an output, at the OFF level, the first time the switch is used
(`start()` with `restore`, or the first command), and released by `stop()`; the kernel keeps
it for this process only, so no other program can drive it meanwhile. Needs CPython
(`fcntl.ioctl`); the MicroPython unix port has no ioctl (no `fcntl`, and the PyPI build no
`ffi`): there every switch is a logged `OSError`. The user needs read/write access to the chip
(group `gpio` or `dialout` on most distributions). No chip: a logged `OSError` (ENOENT).

Host device: /dev/gpiochip0, CPython only

Example config (hjson):
    fan_relay: {
        package: .unix.gpio_chardev
        component: GPIOChardev
        constructor_args: {
            line: 17                 # the line's offset on the chip (BCM number on a Pi)
            chip: "/dev/gpiochip0"   # optional: default /dev/gpiochip0
            active_low: false        # optional: true for relay boards that switch on at 0 V
            restore: "off"           # optional: "restore" (default), "off" or "on" (ComponentSwitch)
        }
    }
"""

from pysmartnode.platform import const
from pysmartnode.utils.component import ComponentSwitch

# <linux/gpio.h>: struct sizes, offsets and ioctl numbers (checked against the header by the
# tests); _IOWR(0xB4, nr, size) = 3 << 30 | size << 16 | 0xB4 << 8 | nr
_REQUEST_SIZE = const(592)  # struct gpio_v2_line_request
_CONSUMER = const(256)  # offsets[64] come first
_CONFIG = const(288)  # struct gpio_v2_line_config: flags u64, num_attrs u32, padding, attrs
_NUM_LINES = const(560)
_FD = const(588)
_GET_LINE = const(0xC250B407)  # GPIO_V2_GET_LINE_IOCTL
_SET_VALUES = const(0xC010B40F)  # GPIO_V2_LINE_SET_VALUES_IOCTL: struct gpio_v2_line_values
_FLAG_ACTIVE_LOW = const(0x02)
_FLAG_OUTPUT = const(0x08)
_ATTR_OUTPUT_VALUES = const(2)


def line_request(line, active_low, consumer):
    """The bytes of a struct gpio_v2_line_request for one output line, inactive at first."""
    import struct

    buf = bytearray(_REQUEST_SIZE)
    struct.pack_into("<I", buf, 0, line)
    name = consumer.encode()[:31]
    buf[_CONSUMER : _CONSUMER + len(name)] = name
    flags = _FLAG_OUTPUT | (_FLAG_ACTIVE_LOW if active_low else 0)
    # config: flags, one attribute (output values: bit 0 = 0, mask bit 0) at attrs[0]
    struct.pack_into("<QI", buf, _CONFIG, flags, 1)
    struct.pack_into("<IIQQ", buf, _CONFIG + 32, _ATTR_OUTPUT_VALUES, 0, 0, 1)
    struct.pack_into("<I", buf, _NUM_LINES, 1)
    return buf


def line_values(value):
    """The bytes of a struct gpio_v2_line_values setting the request's line 0."""
    import struct

    return bytearray(struct.pack("<QQ", 1 if value else 0, 1))


class GPIOChardev(ComponentSwitch):
    def __init__(self, name, line, chip="/dev/gpiochip0", active_low=False, **kwargs):
        super().__init__(name, **kwargs)
        if not isinstance(line, int) or isinstance(line, bool) or not 0 <= line < 1024:
            raise ValueError(
                "line must be the line's offset on the chip (0..1023), got %r" % (line,)
            )
        if not isinstance(active_low, bool):
            raise ValueError("active_low must be true or false, got %r" % (active_low,))
        if not isinstance(chip, str) or not chip.startswith("/dev/"):
            raise ValueError('chip must be a device path like "/dev/gpiochip0", got %r' % (chip,))
        self._line, self._chip, self._active_low = line, chip, active_low
        self._fd = None  # the line's file descriptor, from the line request

    def _request(self):
        try:
            import fcntl
            import os
        except ImportError:
            raise OSError("no ioctl on this runtime (fcntl): GPIO chardev needs CPython") from None
        chip = os.open(self._chip, os.O_RDWR | os.O_CLOEXEC)
        try:
            buf = line_request(self._line, self._active_low, "pysmartnode-" + self.name)
            fcntl.ioctl(chip, _GET_LINE, buf, True)
        finally:
            os.close(chip)  # the line's own fd outlives the chip's
        self._fd = int.from_bytes(buf[_FD : _FD + 4], "little")

    def _set(self, value):
        if self._fd is None:
            self._request()
        import fcntl

        fcntl.ioctl(self._fd, _SET_VALUES, line_values(value), True)
        return True

    async def _on(self):
        return self._set(1)

    async def _off(self):
        return self._set(0)

    def stop(self):
        super().stop()
        if self._fd is not None:
            import os

            os.close(self._fd)  # releases the line (the kernel keeps its last value)
            self._fd = None
