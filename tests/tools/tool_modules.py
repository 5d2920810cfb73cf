"""Load tools/*.py by path, under names of their own (`build`, for one, is also a PyPI package)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from harness import REPO, in_ci, missing


def load_tool(name: str) -> ModuleType:
    """tools/<name>.py as module `pysmartnode_tool_<name>` (loaded once)."""
    key = "pysmartnode_tool_" + name
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, REPO / "tools" / (name + ".py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def require_firmware():
    """The frozen unix-port firmware, built once and cached; skips (fails in CI) without a tree."""
    firmware = load_tool("firmware")
    source = firmware.find_source()
    if source is None or not source.exists():
        missing("a MicroPython source tree", firmware.SOURCE_HINT)
    try:
        return firmware.build_firmware(source)
    except firmware.FirmwareError as e:
        if in_ci():
            raise
        missing("a firmware build", str(e))
