"""A switch on a Linux GPIO line through the character device (`/dev/gpiochipN`, the kernel's
v2 uAPI: a line request, then set-values ioctls), e.g. a relay on a Raspberry Pi.

The line is requested as an output, at the OFF level, the first time the switch is used
(`start()` with `restore`, or the first command), and released by `stop()`; the kernel keeps
it for this process only, so no other program can drive it meanwhile. The ioctls go through
`fcntl.ioctl` on CPython and through `ffi` (the C library's open/ioctl/close, errno from
`os.errno()`) on the MicroPython unix port built by tools/firmware.py. The PyPI wheel of the
unix port has neither: there every switch is a logged `OSError` saying so. The user needs
read/write access to the chip (group `gpio` or `dialout` on most distributions). No chip: a
logged `OSError` (ENOENT); a failed ioctl: a logged `OSError` with the kernel's errno, naming
the chip.

Host device: /dev/gpiochip0, CPython or a unix port with ffi (tools/firmware.py's, not the wheel)

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
# <fcntl.h> on Linux (x86, ARM, RISC-V; for the ffi path, where no os.O_* exists)
_O_RDWR = const(2)
_O_CLOEXEC = const(0o2000000)


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


def _io():
    """The runtime's way to open a device, ioctl it and close it."""
    try:
        return _Fcntl()
    except (ImportError, AttributeError):  # AttributeError: micropython-lib's fcntl, no os.open
        pass
    try:
        return _Libc()
    except ImportError:
        raise OSError(
            "no ioctl on this runtime (neither fcntl nor ffi): GPIO chardev needs CPython or a "
            "MicroPython unix port with ffi, such as the one tools/firmware.py builds (the PyPI "
            "wheel has no ffi)"
        ) from None


class _Fcntl:
    # CPython: os and fcntl
    def __init__(self):
        import fcntl
        import os

        self._fcntl, self._os = fcntl, os
        self._flags = os.O_RDWR | os.O_CLOEXEC

    def open(self, path):
        return self._os.open(path, self._flags)

    def ioctl(self, fd, request, buf, what):
        try:
            self._fcntl.ioctl(fd, request, buf, True)
        except OSError as e:
            raise OSError(e.errno, "%s: %s" % (what, e.strerror)) from None

    def close(self, fd):
        self._os.close(fd)


class _Libc:
    # The MicroPython unix port: the C library through ffi; errno from os.errno(), read right
    # after the failed call (os imported before: an import looks for files, which sets errno)
    def __init__(self):
        import os

        import ffi

        self._errno = os.errno
        try:
            lib = ffi.open("libc.so.6")  # glibc
        except OSError:
            lib = ffi.open(None)  # the C library this binary is linked with (musl, ...)
        self._open = lib.func("i", "open", "si")
        self._ioctl = lib.func("i", "ioctl", "iLp")  # the kernel writes into the bytearray
        self._close = lib.func("i", "close", "i")
        self._strerror = lib.func("s", "strerror", "i")

    def _check(self, result, what):
        if result < 0:
            code = self._errno()
            raise OSError(code, "%s: %s" % (what, self._strerror(code)))
        return result

    def open(self, path):
        return self._check(self._open(path, _O_RDWR | _O_CLOEXEC), path)

    def ioctl(self, fd, request, buf, what):
        self._check(self._ioctl(fd, request, buf), what)

    def close(self, fd):
        self._close(fd)


class GPIOChardev(ComponentSwitch):
    def __init__(self, name, line, chip="/dev/gpiochip0", active_low=False, **kwargs):
        ComponentSwitch.__init__(self, name, **kwargs)
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
        self._io = None  # _Fcntl or _Libc, chosen at the first use

    def _request(self):
        if self._io is None:
            self._io = _io()
        chip = self._io.open(self._chip)
        try:
            buf = line_request(self._line, self._active_low, "pysmartnode-" + self.name)
            self._io.ioctl(chip, _GET_LINE, buf, "line request on " + self._chip)
        finally:
            self._io.close(chip)  # the line's own fd outlives the chip's
        self._fd = int.from_bytes(buf[_FD : _FD + 4], "little")

    def _set(self, value):
        if self._fd is None:
            self._request()
        self._io.ioctl(self._fd, _SET_VALUES, line_values(value), "setting " + self._chip)
        return True

    async def _on(self):
        return self._set(1)

    async def _off(self):
        return self._set(0)

    def stop(self):
        ComponentSwitch.stop(self)
        if self._fd is not None:
            self._io.close(self._fd)  # releases the line (the kernel keeps its last value)
            self._fd = None
