"""The one list of what a board runs: every module of pysmartnode and mqtt_as but the host-only ones,
and the data files beside them (the HTTP component's page).

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
# Data files a board needs, each with the module a firmware freezes it as: a tree of files
# (tools/build.py, mip) holds the file itself, where the code looks for it beside its module; a
# firmware has no files of its own, so it freezes the bytes as `DATA` in that module (in flash)
DATA_FILES = (
    ("pysmartnode/components/net/http_page.html.gz", "pysmartnode/components/net/http_page.py"),
)


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


def device_data() -> list[tuple[Path, str]]:
    """(source file, path inside the device tree) for every data file a board needs."""
    return [(REPO / rel, rel) for rel, _ in DATA_FILES]


def write_data_modules(into: Path) -> list[str]:
    """Write each data file as the module DATA_FILES names, holding `DATA = b"..."`, under
    `into` (for a firmware freeze); returns their paths relative to `into`."""
    out = []
    for rel, module in DATA_FILES:
        target = into / module
        target.parent.mkdir(parents=True, exist_ok=True)
        text = "# Made by tools/device_modules.py from %s: do not edit\nDATA = %r\n" % (
            rel,
            (REPO / rel).read_bytes(),
        )
        if not target.exists() or target.read_text() != text:
            staging = target.with_suffix(".tmp")
            staging.write_text(text)
            staging.replace(target)  # a concurrent freeze never reads half a module
        out.append(module)
    return out
