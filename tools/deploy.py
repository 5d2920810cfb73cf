"""Copy a device build and your config to a board with mpremote.

    python3 tools/build.py --out build/kitchen --march xtensawin --target 1.24
    python3 tools/deploy.py build/kitchen --port /dev/ttyUSB0 --config my/kitchen.py --reset

The build folder must be one tools/build.py made (it holds .pysmartnode-build; --force skips
the check). Every file of it goes to the board's root (folders made as needed), then --config
lands as config.py and --components as components.py, whatever they are called here. --reset
restarts the board afterwards so main.py runs. --resume connects without the soft reset (the
MicroPython unix port behind socat has none). Needs mpremote: `pip install pysmartnode[deploy]`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

MARKER = ".pysmartnode-build"  # tools/build.py's mark on the trees it writes


class DeployError(Exception):
    """Nothing usable to deploy, or mpremote failed; the message says which."""


def plan(build: Path, config: Path | None = None, components: Path | None = None):
    """(local file, path on the board) for everything deploy copies, folders first-level sorted."""
    files = []
    for path in sorted(build.rglob("*")):
        rel = path.relative_to(build).as_posix()
        if path.is_file() and rel != MARKER and "__pycache__" not in rel:
            files.append((path, rel))
    for path, name in ((config, "config.py"), (components, "components.py")):
        if path is not None:
            files = [f for f in files if f[1] != name] + [(path, name)]
    return files


def mpremote_args(port: str, files, resume: bool = False, reset: bool = False) -> list[str]:
    """One mpremote command line: connect, make the folders, copy each file, maybe reset."""
    args = ["connect", port] + (["resume"] if resume else [])
    folders = sorted({rel.rsplit("/", 1)[0] for _, rel in files if "/" in rel})
    for folder in folders:  # parents sort before their children
        args += ["fs", "mkdir", ":" + folder, "+"]
    for path, rel in files:
        args += ["fs", "cp", str(path), ":" + rel, "+"]
    return args + (["reset"] if reset else ["fs", "ls", ":"])


def deploy(
    build: Path,
    port: str,
    config: Path | None = None,
    components: Path | None = None,
    resume: bool = False,
    reset: bool = False,
    force: bool = False,
    timeout: float = 600,
) -> list[str]:
    """Copy `build` (and config/components) to the board on `port`; returns the board paths.

    Raises:
        DeployError: no build there, a missing config, or mpremote failed (with its words).
    """
    build = Path(build)
    if not build.is_dir():
        raise DeployError("%s is not a folder: make one with tools/build.py --out" % build)
    if not (build / MARKER).exists() and not force:
        raise DeployError(
            "%s was not made by tools/build.py (no %s): build with it, or --force" % (build, MARKER)
        )
    for path in (config, components):
        if path is not None and not Path(path).is_file():
            raise DeployError("%s does not exist" % path)
    files = plan(build, config, components)
    if not any(rel == "main.py" for _, rel in files):
        raise DeployError("%s holds no main.py: not a device build" % build)
    print("deploy: %d files to %s" % (len(files), port), flush=True)
    # mkdir of a folder that exists fails: make only those missing, so ask first
    existing = _board_folders(port, resume, timeout)
    args = mpremote_args(port, files, resume, reset)
    args = _drop_existing_mkdirs(args, existing)
    try:
        done = subprocess.run([sys.executable, "-m", "mpremote", *args], timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DeployError("mpremote did not finish within %d s" % timeout) from None
    if done.returncode:
        raise DeployError(
            "mpremote failed (exit status %d): see its output above" % done.returncode
        )
    return [rel for _, rel in files]


def _board_folders(port: str, resume: bool, timeout: float) -> set[str]:
    """The folders the board already has, as paths from its root."""
    code = (
        "import os\n"
        "def walk(d):\n"
        "    for e in (os.ilistdir(d) if d else os.ilistdir()):\n"
        "        if e[1] & 0x4000:\n"
        "            p = d + '/' + e[0] if d else e[0]\n"
        "            print('DIR:' + p)\n"
        "            walk(p)\n"
        "walk('')\n"
    )
    args = ["connect", port] + (["resume"] if resume else []) + ["exec", code]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mpremote", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise DeployError("no answer from the board on %s within %d s" % (port, timeout)) from None
    if done.returncode:
        reason = (done.stderr or done.stdout).strip()
        raise DeployError("cannot reach the board on %s: %s" % (port, reason))
    return {line[4:] for line in done.stdout.splitlines() if line.startswith("DIR:")}


def _drop_existing_mkdirs(args: list[str], existing: set[str]) -> list[str]:
    out, i = [], 0
    while i < len(args):
        if args[i : i + 2] == ["fs", "mkdir"] and args[i + 2][1:] in existing:
            i += 4  # fs mkdir :folder +
            continue
        out.append(args[i])
        i += 1
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", type=Path, help="a folder made by tools/build.py")
    parser.add_argument("--port", required=True, help="the board's serial port, e.g. /dev/ttyUSB0")
    parser.add_argument("--config", type=Path, help="your config file; lands as config.py")
    parser.add_argument("--components", type=Path, help="lands as components.py")
    parser.add_argument("--resume", action="store_true", help="no soft reset on connect")
    parser.add_argument("--reset", action="store_true", help="reset the board when done")
    parser.add_argument(
        "--force", action="store_true", help="deploy a folder build.py did not make"
    )
    args = parser.parse_args(argv)
    try:
        written = deploy(
            args.build, args.port, args.config, args.components, args.resume, args.reset, args.force
        )
    except DeployError as e:
        print("deploy: " + str(e), file=sys.stderr)
        return 2
    print("deploy: %d files copied" % len(written))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
