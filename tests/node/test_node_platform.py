"""The platform layer: the board module on fakes, and hardware imports kept inside the layer."""

import ast
from pathlib import Path

import pytest
from harness import REPO

FAKES = Path(__file__).parents[1] / "fakes"
APPS = Path(__file__).parent / "apps"
HARDWARE = {"machine", "network", "esp", "esp32", "ntptime", "rp2", "webrepl"}


def test_board_module_runs_on_the_unix_port_with_fake_hardware(run_py):
    proc = run_py("micropython", APPS / "board_check.py", str(FAKES))
    assert proc.wait(timeout=20) == 0, proc.output()
    checks = [line for line in proc.lines if line.startswith("check ")]
    assert checks and all(line.endswith(" ok") for line in checks), proc.output()
    assert "board checks done" in proc.lines


def _hardware_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found & HARDWARE


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted((REPO / "pysmartnode").rglob("*.py"))
        if "platform" not in p.relative_to(REPO / "pysmartnode").parts
    ],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_only_the_platform_layer_imports_hardware_modules(path):
    assert _hardware_imports(path) == set()


def test_device_code_has_no_time_ticks_outside_the_platform_layer():
    offenders = [
        str(p.relative_to(REPO))
        for p in (REPO / "pysmartnode").rglob("*.py")
        if "platform" not in p.parts
        and ("time.ticks_" in p.read_text() or "sleep_ms" in p.read_text())
    ]
    assert offenders == []
