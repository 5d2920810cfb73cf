"""The hardware fakes of tests/fakes for component tests: on a node's import path (after the
tree, so a node finds `machine` and `neopixel` there), and loaded into this process for the
in-process builds."""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
from pathlib import Path

from harness import REPO
from harness.runtimes import import_roots

FAKES = REPO / "tests" / "fakes"
MODULES = ("machine", "neopixel")  # faked in-process; `network` and `ntptime` stay absent


def node_env(**extra: str) -> dict[str, str]:
    """Environment for a node (either runtime) that builds hardware components on the fakes:
    tests/fakes last on its import path (the unix port's `machine` is extensible), plus extra."""
    old = os.environ.get("PYTHONPATH")
    env = {
        "PYTHONPATH": os.pathsep.join([*import_roots(), str(FAKES), *([old] if old else [])]),
        "MICROPYPATH": ":".join([".frozen", *import_roots(), str(FAKES)]),
    }
    return env | extra


def load() -> dict[str, object]:
    """Puts the fake modules into sys.modules (fresh state); returns them by name."""
    out = {}
    for name in MODULES:
        path = FAKES / f"{name}.py"
        if not path.exists():
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = out[name] = module
    return out


def unload() -> None:
    for name in MODULES:
        sys.modules.pop(name, None)


def node_folder(folder: Path, broker, components: dict, prefix: str, extra: str = "") -> str:
    """Writes a test node's config.py (a fresh device id starting with prefix, the broker, keepalive
    10 s, no NTP, watchdog 30 s, then extra) and components.py into folder; returns the id."""
    device_id = f"{prefix}{secrets.token_hex(3)}"
    (folder / "config.py").write_text(
        f"DEVICE_NAME = {device_id!r}\nMQTT_HOST = {broker.host!r}\nMQTT_PORT = {broker.port}\n"
        "MQTT_KEEPALIVE = 10\nRTC_SYNC_ACTIVE = False\nWATCHDOG_TIMEOUT = 30\n" + extra
    )
    (folder / "components.py").write_text(f"COMPONENTS = {components!r}\n")
    return device_id
