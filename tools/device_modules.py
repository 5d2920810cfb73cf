"""The one list of what a board runs: every module of pysmartnode and mqtt_as but the host-only ones.

tools/build.py, tools/manifest.py (the firmware freeze) and tools/mip_package.py (package.json
for mip) all read it, so a module is either on every device build or on none.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# (folder holding the package, package name)
PACKAGES = ((REPO, "pysmartnode"), (REPO / "external_modules", "mqtt_as"))
# Imported only on CPython (the demo broker, the CPython platform, the CPython protocol reader)
HOST_ONLY = frozenset(
    {
        "pysmartnode/demo.py",
        "pysmartnode/platform/cpython.py",
        "mqtt_as/cpython.py",
    }
)
# A board runs these as source from its filesystem, beside the user's config.py
SOURCE_FILES = ("main.py", "boot.py")


def device_sources() -> list[tuple[Path, str]]:
    """(source file, path inside the device tree) for every module a board needs, sorted."""
    out = []
    for base, package in PACKAGES:
        for src in sorted((base / package).rglob("*.py")):
            rel = src.relative_to(base).as_posix()
            if rel not in HOST_ONLY and "__pycache__" not in rel:
                out.append((src, rel))
    return out


def package_files(package: str) -> list[str]:
    """The device files of one package, relative to the package folder (manifest `files=`)."""
    prefix = package + "/"
    return [rel[len(prefix) :] for _, rel in device_sources() if rel.startswith(prefix)]
