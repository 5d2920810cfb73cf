"""The hardware fakes of tests/fakes for component tests: on a node's import path (after the
tree, so a node finds `machine` and `neopixel` there), and loaded into this process for the
in-process builds."""

from __future__ import annotations

import importlib.util
import os
import sys

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
