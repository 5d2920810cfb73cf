"""Fixtures for the tools tests: the frozen unix-port firmware, built once per session (cached)."""

from __future__ import annotations

import pytest
from tool_modules import require_firmware


@pytest.fixture(scope="session")
def firmware():
    """tools/firmware.py's Firmware: .micropython (frozen unix port), .mpy_cross, .mpy_abi."""
    return require_firmware()
