"""unix/gpio_chardev: the v2 uAPI structs against <linux/gpio.h> (compiled with the host's C
compiler), the same bytes from the unix-port firmware tools/firmware.py builds (ioctl through
ffi there), the kernel's errno reaching the log on both runtimes, the clear error of the PyPI
wheel (no ffi) in a running node, and a real line on a gpio-sim chip where the kernel has one
(skipped only when this host has no simulated /dev/gpiochip), on CPython and the firmware."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import glob
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO, import_roots
from harness.runtimes import tool_modules

for _root in (str(REPO), str(REPO / "external_modules")):
    if _root not in sys.path:
        sys.path.insert(0, _root)

HEADER = Path("/usr/include/linux/gpio.h")
# fills the structs as line_request(17, True, "pysmartnode-fan"), line_values(1) and (0) should,
# field by field, then prints their bytes and the layout the module hard-codes
C_PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <linux/gpio.h>
static void hex(const void *p, size_t n) {
    for (size_t i = 0; i < n; i++) printf("%02x", ((const unsigned char *)p)[i]);
    printf("\n");
}
int main(void) {
    struct gpio_v2_line_request r;
    struct gpio_v2_line_values v;
    memset(&r, 0, sizeof r);
    memset(&v, 0, sizeof v);
    r.offsets[0] = 17;
    strcpy(r.consumer, "pysmartnode-fan");
    r.config.flags = GPIO_V2_LINE_FLAG_OUTPUT | GPIO_V2_LINE_FLAG_ACTIVE_LOW;
    r.config.num_attrs = 1;
    r.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
    r.config.attrs[0].attr.values = 0;
    r.config.attrs[0].mask = 1;
    r.num_lines = 1;
    v.bits = 1;
    v.mask = 1;
    hex(&r, sizeof r);
    hex(&v, sizeof v);
    v.bits = 0;
    hex(&v, sizeof v);
    printf("%zu %zu %zu %zu %zu %lu %lu\n", sizeof r, offsetof(struct gpio_v2_line_request,
           consumer), offsetof(struct gpio_v2_line_request, config),
           offsetof(struct gpio_v2_line_request, num_lines), offsetof(struct gpio_v2_line_request,
           fd), (unsigned long)GPIO_V2_GET_LINE_IOCTL, (unsigned long)GPIO_V2_LINE_SET_VALUES_IOCTL);
    return 0;
}
"""


@pytest.fixture(scope="module")
def kernel_layout(tmp_path_factory) -> list[str]:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or not HEADER.exists():
        pytest.skip("needs a C compiler and the kernel headers (linux-libc-dev) for the layout")
    folder = tmp_path_factory.mktemp("gpio_h")
    (folder / "layout.c").write_text(C_PROGRAM)
    subprocess.run([compiler, "-o", str(folder / "layout"), str(folder / "layout.c")],
                   check=True, timeout=60)  # fmt: skip
    out = subprocess.run([str(folder / "layout")], capture_output=True, text=True, check=True,
                         timeout=10)  # fmt: skip
    return out.stdout.split("\n")


def test_line_request_bytes_are_the_kernel_struct(kernel_layout):
    from pysmartnode.components.unix.gpio_chardev import line_request

    assert line_request(17, True, "pysmartnode-fan").hex() == kernel_layout[0]


def test_line_values_bytes_are_the_kernel_struct(kernel_layout):
    from pysmartnode.components.unix.gpio_chardev import line_values

    assert [line_values(1).hex(), line_values(0).hex()] == kernel_layout[1:3]


def test_sizes_offsets_and_ioctl_numbers_are_the_headers(kernel_layout):
    from pysmartnode.components.unix import gpio_chardev as g

    mine = [g._REQUEST_SIZE, g._CONSUMER, g._CONFIG, g._NUM_LINES, g._FD, g._GET_LINE,
            g._SET_VALUES]  # fmt: skip
    assert mine == [int(x) for x in kernel_layout[3].split()]


ENOTTY_TEXT = "line request on /dev/null: Inappropriate ioctl for device"
NO_IOCTL = (
    "no ioctl on this runtime (neither fcntl nor ffi): GPIO chardev needs CPython or a "
    "MicroPython unix port with ffi, such as the one tools/firmware.py builds"
)


@pytest.fixture
def node_state():
    from pysmartnode import node

    saved = (node.mqtt, node.discovery)
    node.mqtt = node.discovery = None
    yield node
    node.mqtt, node.discovery = saved


def test_a_missing_chip_is_a_logged_oserror_and_the_state_stays(node_state, tmp_path, capsys):
    from pysmartnode.components.unix.gpio_chardev import GPIOChardev

    async def main():
        relay = GPIOChardev("relay", line=3, chip=f"/dev/gpiochip-missing-{os.getpid()}")
        assert await relay.on() is False
        assert relay.state() is None

    asyncio.run(asyncio.wait_for(main(), 10))
    assert "relay: turning on failed: FileNotFoundError" in capsys.readouterr().out


def test_a_failed_ioctl_is_a_logged_oserror_naming_the_chip(node_state, capsys):
    from pysmartnode.components.unix.gpio_chardev import GPIOChardev

    async def main():
        relay = GPIOChardev("relay", line=3, chip="/dev/null")  # not a gpiochip: ENOTTY
        assert await relay.on() is False
        assert relay.state() is None

    asyncio.run(asyncio.wait_for(main(), 10))
    out = capsys.readouterr().out
    assert "relay: turning on failed: OSError: [Errno 25] " + ENOTTY_TEXT in out


def test_without_fcntl_and_ffi_the_switch_names_the_fix(node_state, monkeypatch, capsys):
    from pysmartnode.components.unix.gpio_chardev import GPIOChardev

    monkeypatch.setitem(sys.modules, "fcntl", None)  # as on the PyPI wheel of the unix port
    monkeypatch.setitem(sys.modules, "ffi", None)

    async def main():
        relay = GPIOChardev("relay", line=3)
        assert await relay.off() is False

    asyncio.run(asyncio.wait_for(main(), 10))
    assert NO_IOCTL in capsys.readouterr().out


@pytest.mark.parametrize(
    "bad",
    [{"line": -1}, {"line": "17"}, {"line": True}, {"line": 1, "chip": "gpiochip0"},
     {"line": 1, "active_low": 1}],
    ids=["negative", "text", "bool", "chip", "active_low"],
)  # fmt: skip
def test_bad_arguments_raise_valueerror(node_state, bad):
    from pysmartnode.components.unix.gpio_chardev import GPIOChardev

    with pytest.raises(ValueError):
        GPIOChardev("relay", **bad)


def _simulated_chip() -> tuple[str, Path] | None:
    """(/dev/gpiochipN, its line 0's sysfs folder) of a gpio-sim chip, if the host has one."""
    for folder in sorted(glob.glob("/sys/devices/platform/gpio-sim.*/gpiochip*")):
        dev = "/dev/" + os.path.basename(folder)
        line = Path(folder) / "sim_gpio0"
        if os.path.exists(dev) and line.exists():
            return dev, line
    return None


# run by both runtimes: CPython with the repository on its path, the firmware from its frozen
# modules only (so what it runs is what tools/firmware.py froze)
SIM_SCRIPT = """
import asyncio, sys
from pysmartnode import node
node.mqtt = node.discovery = None
from pysmartnode.components.unix.gpio_chardev import GPIOChardev

def value():
    with open(sys.argv[2] + "/value") as f:
        return f.read().strip()

async def main():
    relay = GPIOChardev("relay", line=0, chip=sys.argv[1], active_low=True)
    print("on", await relay.on(), value())
    print("off", await relay.off(), value())
    relay.stop()

asyncio.run(main())
"""
STRUCTS_SCRIPT = """
from pysmartnode.components.unix.gpio_chardev import line_request, line_values

print(line_request(17, True, "pysmartnode-fan").hex())
print(line_request(1023, False, "pysmartnode-" + "x" * 40).hex())
print(line_values(1).hex(), line_values(0).hex())
"""
ERRORS_SCRIPT = """
import asyncio
from pysmartnode import node
node.mqtt = node.discovery = None
from pysmartnode.components.unix.gpio_chardev import GPIOChardev

async def main():
    for chip in ("/dev/null", "/dev/gpiochip-missing-here"):
        relay = GPIOChardev("relay", line=3, chip=chip)
        print("result", await relay.on(), relay.state())
        try:
            relay._request()
        except OSError as e:
            print("errno", e.errno)

asyncio.run(main())
"""
# FIGETBSZ (_IO(0, 2)): the kernel writes the file's block size into the int it is given
FIGETBSZ = 2
WRITE_BACK_SCRIPT = """
import sys
from pysmartnode.components.unix.gpio_chardev import _Libc

io = _Libc()
fd = io.open(sys.argv[1])
buf = bytearray(4)
io.ioctl(fd, 2, buf, "FIGETBSZ")
io.close(fd)
print(int.from_bytes(buf, "little"))
"""


def _load_tool_modules():
    # tests/tools' loader of the frozen unix-port firmware (built once, cached)
    return tool_modules()


@pytest.fixture(scope="module")
def firmware():
    """tools/firmware.py's unix-port firmware (has ffi); skips (fails in CI) without a source."""
    return _load_tool_modules().require_firmware()


def run_script(runtime, text, folder, *args, firmware=None) -> list[str]:
    """Run `text` as a script under "cpython" or the "firmware"; its output lines."""
    folder.mkdir(exist_ok=True)
    script = folder / "script.py"
    script.write_text(text)
    if runtime == "cpython":
        argv = [sys.executable, str(script)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(import_roots()))
    else:
        argv = [str(firmware.micropython), str(script)]
        env = dict(os.environ, MICROPYPATH=".frozen")
    out = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=30, cwd=folder,
                         env=env)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.splitlines()


def test_the_firmware_builds_the_structs_cpython_builds(firmware, tmp_path):
    # CPython's bytes are the kernel's (test_line_request_bytes_are_the_kernel_struct)
    mine = run_script("firmware", STRUCTS_SCRIPT, tmp_path / "fw", firmware=firmware)
    assert mine == run_script("cpython", STRUCTS_SCRIPT, tmp_path / "py")
    assert len(mine) == 3 and len(mine[0]) == 2 * 592


def test_on_the_firmware_ffi_ioctl_gets_what_the_kernel_writes(firmware, tmp_path):
    target = tmp_path / "file"
    target.write_bytes(b"x")
    fd = os.open(target, os.O_RDWR)
    try:
        buf = bytearray(4)
        fcntl.ioctl(fd, FIGETBSZ, buf, True)
    finally:
        os.close(fd)
    expected = struct.unpack("<i", buf)[0]
    assert expected > 0
    lines = run_script("firmware", WRITE_BACK_SCRIPT, tmp_path / "fw", str(target),
                       firmware=firmware)  # fmt: skip
    assert lines == [str(expected)]


def test_on_the_firmware_errors_carry_the_kernels_errno_and_name_the_chip(firmware, tmp_path):
    lines = run_script("firmware", ERRORS_SCRIPT, tmp_path, firmware=firmware)
    text = "\n".join(lines)
    # ENOTTY from the kernel for an ioctl on /dev/null, ENOENT from open(): errno is real
    assert "relay: turning on failed: OSError: (25, '%s')" % ENOTTY_TEXT in text
    assert "relay: turning on failed: OSError: [Errno 2] ENOENT: /dev/gpiochip-missing-here: " \
           "No such file or directory" in text  # fmt: skip
    assert [line for line in lines if not line[:1].isdigit()] == [
        "result False None", "errno %d" % errno.ENOTTY,
        "result False None", "errno %d" % errno.ENOENT,
    ]  # fmt: skip


def test_on_the_wheel_the_switch_names_the_fix_and_the_node_runs_on(mosquitto, node_with, observer, tmp_path):  # fmt: skip
    lamp = tmp_path / "lamp"
    components = {
        "_order": ["relay", "lamp"],
        "relay": {"package": ".unix.gpio_chardev", "component": "GPIOChardev",
                  "constructor_args": {"line": 17}},
        "lamp": {"package": ".unix.file_switch", "component": "FileSwitch",
                 "constructor_args": {"path": str(lamp), "restore": "off"}},
    }  # fmt: skip
    node = node_with("micropython", mosquitto, "COMPONENTS = %r\n" % components)
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    obs.wait_message(node.topic("lamp"), b"OFF", timeout=20)
    mark = obs.mark()
    obs.publish(node.topic("relay/set"), "ON")
    log = obs.wait_message(f"home/log/error/{node.device_id}", lambda m: b"relay" in m.payload,
                           timeout=10, after=mark)  # fmt: skip
    assert "turning on failed: OSError: " + NO_IOCTL in log.text
    mark = obs.mark()
    obs.publish(node.topic("lamp/set"), "ON")
    obs.wait_message(node.topic("lamp"), b"ON", timeout=10, after=mark)
    assert node.proc.returncode is None  # still running


@pytest.mark.parametrize("runtime", ["cpython", "firmware"])
def test_a_simulated_line_follows_the_switch(runtime, request, tmp_path):
    """Only on a gpio-sim chip (never a real one: its line 0 may drive something)."""
    found = _simulated_chip()
    if found is None:
        pytest.skip("no gpio-sim chip here (/dev/gpiochip* missing; gpio-sim needs configfs)")
    dev, line = found
    fw = request.getfixturevalue("firmware") if runtime == "firmware" else None
    lines = run_script(runtime, SIM_SCRIPT, tmp_path, dev, str(line), firmware=fw)
    # active low: on is 0 V
    assert [x for x in lines if x.startswith(("on ", "off "))] == ["on True 0", "off True 1"]
