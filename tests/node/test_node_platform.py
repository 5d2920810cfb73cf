"""The platform layer: the board module on fakes, and hardware imports kept inside the layer."""

import ast
import re
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


# MicroPython's own millisecond clock and sleep, which CPython lacks: the platform layer has
# ticks_ms/ticks_diff/ticks_add and sleep_ms for every runtime
_PORT_ONLY = re.compile(
    r"\btime\.ticks_|\b(?:u?asyncio|time)\.sleep_ms\b"
    r"|from (?:u?asyncio|time) import[^\n]*\b(?:sleep_ms|ticks_)"
)


def test_device_code_has_no_time_ticks_outside_the_platform_layer():
    offenders = [
        str(p.relative_to(REPO))
        for p in (REPO / "pysmartnode").rglob("*.py")
        if "platform" not in p.parts and _PORT_ONLY.search(p.read_text())
    ]
    assert offenders == []


def _trie(*leaves: tuple[str, str]) -> str:
    """A /proc/net/fib_trie text with the given (address, kind) leaves, as Linux lays it out."""
    body = "".join(f"     |-- {a}\n        /{kind}\n" for a, kind in leaves)
    return f"Main:\n  +-- 0.0.0.0/0 3 0 5\n{body}Local:\n  +-- 0.0.0.0/0 3 0 5\n{body}"


def _route(gateway: str | None) -> str:
    head = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    rows = "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    if gateway:
        raw = bytes(int(p) for p in gateway.split("."))
        rows += f"eth0\t00000000\t{int.from_bytes(raw, 'little'):08X}\t0003\t0\t0\t0\t00000000\n"
    return head + rows


ROUTE_CASES = {
    # the address beside the default gateway wins over a container bridge listed first
    "bridge_first": (
        [("127.0.0.1", "32 host LOCAL"), ("172.17.0.1", "32 host LOCAL")]
        + [("192.168.1.0", "24 link UNICAST"), ("192.168.1.23", "32 host LOCAL")],
        "192.168.1.1",
        "192.168.1.23",
    ),
    "no_default_route": ([("10.0.0.7", "32 host LOCAL")], None, "10.0.0.7"),
    "loopback_only": ([("127.0.0.1", "32 host LOCAL")], "192.168.1.1", "None"),
    "broadcast_is_not_ours": (
        [("10.1.2.255", "32 link BROADCAST"), ("10.1.2.3", "32 host LOCAL")],
        "10.1.2.1",
        "10.1.2.3",
    ),
}


def test_unix_port_finds_the_address_toward_the_default_gateway(run_py, tmp_path):
    for case, (leaves, gateway, _) in ROUTE_CASES.items():
        (tmp_path / f"{case}.trie").write_text(_trie(*leaves))
        (tmp_path / f"{case}.route").write_text(_route(gateway))
    (tmp_path / "unreadable.trie").mkdir()  # reading it fails: no address, no exception
    proc = run_py("micropython", APPS / "route_ip_check.py", str(tmp_path))
    assert proc.wait(timeout=20) == 0, proc.output()
    answers = dict(line.split(" ", 1) for line in proc.lines)
    expected = {case: want for case, (_, _, want) in ROUTE_CASES.items()}
    assert answers == {**expected, "unreadable": "None"}
