"""pysmartnode.platform.hardware: pins by number or name, shared buses, a clear error without
hardware (CPython and the unix port have no machine.Pin)."""

import sys
import types

import pytest
from harness import REPO

from pysmartnode import node
from pysmartnode.platform import hardware


class _Bus:
    made = 0

    def __init__(self, **kwargs):
        _Bus.made += 1
        self.kwargs = kwargs


@pytest.fixture
def fake_machine(monkeypatch):
    sys.path.insert(0, str(REPO / "tests" / "fakes"))
    try:
        import machine
    finally:
        sys.path.pop(0)
    m = types.ModuleType("machine")
    m.Pin = machine.Pin
    m.SoftI2C = _Bus
    monkeypatch.setitem(sys.modules, "machine", m)
    monkeypatch.setattr(node, "parts", {})
    _Bus.made = 0
    return m


def test_pin_takes_numbers_number_strings_and_board_names(fake_machine):
    assert hardware.pin(4).pin == 4
    assert hardware.pin("4").pin == 4
    assert hardware.pin("GP15").pin == "GP15"
    with pytest.raises(ValueError, match="GPIO number or a board pin name"):
        hardware.pin(4.5)


def test_an_output_starts_at_the_value_asked_for(fake_machine):
    assert hardware.pin(5, out=True, value=1).value() == 1
    assert hardware.pin(5, out=True, value=0).value() == 0
    with pytest.raises(ValueError, match="pull"):
        hardware.pin(5, pull="sideways")


def test_components_on_the_same_pins_share_one_bus(fake_machine):
    a = hardware.i2c(4, 5)
    b = hardware.i2c("4", "5", freq=400000)
    c = hardware.i2c(21, 22)
    assert a is b and a is not c
    assert _Bus.made == 2


def test_without_hardware_every_call_says_so(runtime, run_py, tmp_path):
    # the unix port has a `machine` module, but with memory access only
    script = tmp_path / "no_hardware.py"
    script.write_text(
        "from pysmartnode.platform.hardware import i2c, pin\n"
        "for call in (lambda: pin(4), lambda: i2c(4, 5)):\n"
        "    try:\n        call()\n    except OSError as e:\n        print('error:', e)\n"
    )
    proc = run_py(runtime, script)
    assert proc.wait(timeout=20) == 0, proc.output()
    assert proc.output().count("error: no hardware on this platform") == 2, proc.output()
