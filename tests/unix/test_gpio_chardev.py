"""unix/gpio_chardev: the v2 uAPI structs against <linux/gpio.h> (compiled with the host's C
compiler), the errors of a missing chip or runtime, and a real line on a gpio-sim chip where the
kernel has one (skipped only when this host has no simulated /dev/gpiochip)."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO

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


def test_without_fcntl_the_switch_says_it_needs_cpython(node_state, monkeypatch, capsys):
    from pysmartnode.components.unix.gpio_chardev import GPIOChardev

    monkeypatch.setitem(sys.modules, "fcntl", None)  # as on the MicroPython unix port

    async def main():
        relay = GPIOChardev("relay", line=3)
        assert await relay.off() is False

    asyncio.run(asyncio.wait_for(main(), 10))
    assert "no ioctl on this runtime (fcntl): GPIO chardev needs CPython" in capsys.readouterr().out


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


def test_a_simulated_line_follows_the_switch(node_state):
    """Only on a gpio-sim chip (never a real one: its line 0 may drive something)."""
    found = _simulated_chip()
    if found is None:
        pytest.skip("no gpio-sim chip here (/dev/gpiochip* missing; gpio-sim needs configfs)")
    dev, line = found
    from pysmartnode.components.unix.gpio_chardev import GPIOChardev

    async def main():
        relay = GPIOChardev("relay", line=0, chip=dev, active_low=True)
        assert await relay.on()
        assert (line / "value").read_text().strip() == "0"  # active low: on is 0 V
        assert await relay.off()
        assert (line / "value").read_text().strip() == "1"
        relay.stop()

    asyncio.run(asyncio.wait_for(main(), 10))
