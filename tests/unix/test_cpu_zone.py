"""CPUTemperature finds the CPU's thermal zone in a sysfs tree (a fake one: this host has none)."""

from __future__ import annotations

import pytest
from harness import REPO


@pytest.fixture
def zones(tmp_path, monkeypatch):
    import sys

    if str(REPO) not in sys.path:
        monkeypatch.syspath_prepend(str(REPO))
    from pysmartnode.components.unix import cpu_temperature

    monkeypatch.setattr(cpu_temperature, "_ZONES", str(tmp_path))

    def make(*kinds):
        for i, kind in enumerate(kinds):
            zone = tmp_path / f"thermal_zone{i}"
            zone.mkdir()
            (zone / "type").write_text(kind + "\n")
            (zone / "temp").write_text("40000\n")
        return cpu_temperature.find_zone()

    return make


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (("acpitz", "x86_pkg_temp"), "thermal_zone1"),  # a PC: the package, not the board
        (("cpu-thermal",), "thermal_zone0"),  # a Raspberry Pi
        (("acpitz", "iwlwifi_1"), "thermal_zone0"),  # no CPU zone: the first
        ((), None),  # a VM or container
    ],
    ids=["pc", "raspberry_pi", "no_cpu_zone", "none"],
)
def test_find_zone_picks_the_cpu(zones, kinds, expected):
    found = zones(*kinds)
    assert (found and found.split("/")[-2]) == expected
