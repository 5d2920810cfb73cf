"""machine/button on both runtimes without a broker (tests/components/apps/button_check.py
prints what it saw): the same press scenarios give the same presses through the edge interrupt
and through polling, and with the interrupt the pin is not read between edges. On the unix port
the fake runs the interrupt handler under micropython.heap_lock(), as a board's hard IRQ."""

from __future__ import annotations

import pytest
from fake_hardware import FAKES
from harness import REPO
from harness.runtimes import app_checks

APP = REPO / "tests" / "components" / "apps" / "button_check.py"
NONE = {"short": 0, "long": 0, "double": 0}
SCENARIOS = {
    "short": NONE | {"short": 1},
    "long": NONE | {"long": 1},
    "double": NONE | {"double": 1},
    "no_double": NONE | {"short": 2},
    "glitch": NONE,
    "bounce": NONE | {"short": 1},
}


@pytest.fixture(scope="module")
def runs() -> dict:
    return {}


@pytest.fixture
def seen(runtime, run_py, runs) -> tuple[dict, str]:
    """({check: got}, output) of the app on this runtime (one process per runtime)."""
    return app_checks(runs, runtime, run_py, APP, str(FAKES))


@pytest.mark.parametrize("path", ["irq", "poll"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_press_scenario_gives_the_same_presses_both_ways(seen, scenario, path):
    found, output = seen
    assert found.get(f"{scenario}-{path}") == SCENARIOS[scenario], output


def test_with_the_interrupt_the_pin_is_not_read_between_edges(seen):
    found, output = seen
    assert found.get("quiet_reads-irq") == 0, output
    assert found.get("quiet_reads-poll", 0) > 0, output  # the count works: polling reads
