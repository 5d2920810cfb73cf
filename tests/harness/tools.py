"""Where the repo and the external programs the tests drive live."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
"""The repository root (the directory holding pyproject.toml)."""

# mosquitto is in /usr/sbin on Debian, which is not on every user's PATH.
_EXTRA_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to a true value (GitHub sets ``true``)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def find_tool(name: str) -> str | None:
    """Return the path of program ``name`` or None.

    Looks beside the running interpreter first (pip installs ``micropython`` there, and it
    is the same environment as pytest's), then on PATH, then in the sbin directories.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(_EXTRA_DIRS)
    return shutil.which(name, path=path)


def missing(what: str, hint: str) -> NoReturn:
    """Skip the test locally, fail it in CI, saying what is missing and how to get it."""
    message = f"{what} is not available: {hint}"
    if in_ci():
        pytest.fail(f"{message} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def require_tool(name: str, hint: str) -> str:
    """Return the path of program ``name``; skip the test (fail it in CI) when it is missing."""
    found = find_tool(name)
    if found is None:
        missing(f"program {name!r}", hint)
    return found
