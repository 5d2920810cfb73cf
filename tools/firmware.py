"""Build mpy-cross and a MicroPython unix-port firmware with pysmartnode and mqtt_as frozen in.

    python3 tools/firmware.py ~/src/micropython             # a git clone of micropython
    python3 tools/firmware.py micropython-1.29.0-....tar.gz  # or a source tarball
    python3 tools/firmware.py SOURCE --bits 32              # 4-byte words, as on a board

The freeze goes through tools/manifest_unix.py (asyncio + tools/manifest.py, so the same
device-module list a board firmware freezes). The variant is MicroPython's standard one with
Ctrl-C raised by the VM, not from the signal handler (tools/unix_variant/mpconfigvariant.h). Prints where the binaries are; run a node with
`<binary> main.py` from a folder holding only main.py and config.py. A MicroPython clone needs
its submodules only for what is switched off here (btree, SSL); the build needs gcc, make,
pkg-config and libffi-dev (Debian names; gcc-multilib too for --bits 32). About 30 s per binary
on 2 cores.

Builds are cached under $XDG_CACHE_HOME/pysmartnode/firmware (~/.cache/...; or --cache), keyed by
a hash of the source (the tarball's bytes; a clone's HEAD), the make options, the manifests and
every frozen source file: from an unchanged tarball nothing is rebuilt; in a clone make runs
each time (incremental: only what changed). Each edit of the frozen code is a new build of about
1.4 MB: after a build, builds unused for a day beyond the KEEP_BUILDS most recently used are
removed (a cached build counts as used each time it is taken).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent
sys.path.insert(0, str(TOOLS))
from device_modules import device_data, device_sources  # noqa: E402

MANIFEST = TOOLS / "manifest_unix.py"
# The standard variant with Ctrl-C scheduled into the VM (unix_variant/mpconfigvariant.h)
VARIANT = TOOLS / "unix_variant"
VARIANT_FILES = (VARIANT / "mpconfigvariant.h", VARIANT / "mpconfigvariant.mk")
# The trimmed source tree has no berkeley-db, mbedtls or axtls: switch off what needs them
MAKE_OPTIONS = ("MICROPY_PY_BTREE=0", "MICROPY_SSL_MBEDTLS=0", "MICROPY_PY_SSL=0")
MAKE_32BIT = ("CC=gcc -m32", "LD=gcc -m32", "MICROPY_PY_FFI=0")
# Not PYSMARTNODE_*: the node reads every such variable as a config option (and refuses others)
SOURCE_ENV = "MICROPYTHON_SOURCE"
SOURCE_HINT = (
    "a MicroPython source tree: `git clone https://github.com/micropython/micropython` "
    "(1.29 or later) and name it, or set %s to its folder or a source tarball; the CI "
    "machines keep one in ../shared/toolchains/ beside the repository" % SOURCE_ENV
)


# Builds kept beyond a day unused: the newest few (each edit of the frozen code makes one)
KEEP_BUILDS = 8
PRUNE_AFTER_S = 24 * 3600


class FirmwareError(Exception):
    """The build could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Firmware:
    micropython: Path  # the unix-port binary, pysmartnode and mqtt_as frozen in
    mpy_cross: Path  # the mpy-cross built from the same tree (same .mpy ABI)
    version: str  # MicroPython version the tree declares, e.g. "1.29.0"
    mpy_abi: str  # .mpy version that firmware loads, e.g. "6.3"
    bits: int
    built: bool  # False when it came from the cache


def find_source(repo: Path = REPO) -> Path | None:
    """The MicroPython source named by $MICROPYTHON_SOURCE, else one in
    ../shared/toolchains/ beside the repository (newest tarball), else None."""
    named = os.environ.get(SOURCE_ENV)
    if named:
        return Path(named).expanduser()
    shared = repo.parent / "shared" / "toolchains"
    tarballs = sorted(shared.glob("micropython-*.tar.gz")) if shared.is_dir() else []
    return tarballs[-1] if tarballs else None


def cache_root() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache") / "pysmartnode"
    return base.expanduser() / "firmware"


def _progress(message: str) -> None:
    print("firmware: " + message, flush=True)


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tree_identity(tree: Path) -> str:
    """What a clone's build depends on, cheaply: its git HEAD (and dirty state), else its path."""
    try:
        head = subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        head = dirty = None
    if head is not None and head.returncode == 0:
        return (
            "git:" + head.stdout.strip() + ":" + hashlib.sha256(dirty.stdout.encode()).hexdigest()
        )
    return "dir:" + str(tree.resolve())


def build_key(source_id: str, bits: int) -> str:
    """A hash of everything the firmware is made from (source, options, manifests, frozen code)."""
    digest = hashlib.sha256()
    for part in (source_id, str(bits), " ".join(MAKE_OPTIONS)):
        digest.update(part.encode() + b"\0")
    for path in (MANIFEST, TOOLS / "manifest.py", TOOLS / "device_modules.py", *VARIANT_FILES):
        digest.update(path.read_bytes() + b"\0")
    for src, rel in device_sources() + device_data():
        digest.update(rel.encode() + b"\0" + src.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _unpack(tarball: Path, into: Path) -> Path:
    """Unpack a source tarball once (kept for later incremental builds); returns the tree."""
    done = into / ".unpacked"
    if not done.exists():
        shutil.rmtree(into, ignore_errors=True)
        into.mkdir(parents=True)
        _progress("unpacking %s" % tarball.name)
        with tarfile.open(tarball) as tar:
            tar.extractall(into, filter="data")
        done.write_text(str(tarball))
    trees = [p.parent.parent for p in into.glob("*/py/mpconfig.h")]
    if len(trees) != 1:
        raise FirmwareError("%s does not hold one MicroPython source tree" % tarball)
    return trees[0]


def tree_version(tree: Path) -> tuple[str, str]:
    """(MicroPython version, .mpy ABI "major.sub") that a source tree builds."""
    try:
        config = (tree / "py" / "mpconfig.h").read_text()
        code = (tree / "py" / "persistentcode.h").read_text()
    except OSError:
        raise FirmwareError(
            "%s is not a MicroPython source tree (no py/mpconfig.h); %s" % (tree, SOURCE_HINT)
        ) from None
    parts = [
        re.search(r"#define MICROPY_VERSION_%s \(?(\d+)" % name, config)
        for name in ("MAJOR", "MINOR", "MICRO")
    ]
    abi = [re.search(r"#define MPY_%sVERSION (\d+)" % name, code) for name in ("", "SUB_")]
    if not all(parts) or not all(abi):
        raise FirmwareError("cannot read the version of the MicroPython tree %s" % tree)
    return ".".join(p.group(1) for p in parts), ".".join(m.group(1) for m in abi)


def _make(args: list[str], what: str, log: Path) -> None:
    """Run make, its output to `log`; a progress line every 10 s; on failure, the log's tail."""
    _progress("building %s (log: %s)" % (what, log))
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(["make", *args], stdout=out, stderr=subprocess.STDOUT)
        while True:
            try:
                proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                _progress("  %s: %d s ..." % (what, time.monotonic() - start))
    if proc.returncode:
        tail = log.read_text(errors="replace").splitlines()[-25:]
        hint = ""
        if "-m32" in " ".join(args) and any(
            "bits/" in line or "gnu/stubs-32" in line for line in tail
        ):
            hint = "\n(a 32-bit build needs Debian's gcc-multilib)"
        raise FirmwareError("building %s failed:\n%s%s" % (what, "\n".join(tail), hint))
    _progress("  %s built in %.0f s" % (what, time.monotonic() - start))


def build_firmware(
    source: Path,
    bits: int = 64,
    jobs: int | None = None,
    cache: Path | None = None,
    force: bool = False,
) -> Firmware:
    """Build (or take from the cache) mpy-cross and the unix port with the device tree frozen.

    Args:
        source: a MicroPython source folder (a clone) or a source tarball (.tar.gz).
        bits: 64 (the host's words) or 32 (a board's; needs gcc-multilib).
        jobs: make -j (default: the number of CPUs).
        cache: where builds are kept (default cache_root()).
        force: rebuild even when the cache holds this build.

    Raises:
        FirmwareError: no source there, or the build failed (with the compiler's words).
    """
    if bits not in (32, 64):
        raise FirmwareError("bits must be 32 or 64, got %r" % (bits,))
    source = Path(source).expanduser()
    if not source.exists():
        raise FirmwareError("no MicroPython source at %s; %s" % (source, SOURCE_HINT))
    for tool in ("make", "gcc", "pkg-config"):
        if shutil.which(tool) is None:
            raise FirmwareError(
                "%s not found: install gcc, make, pkg-config and libffi-dev "
                "(apt-get install gcc make pkg-config libffi-dev)" % tool
            )
    cache = (cache or cache_root()).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    jobs = jobs or os.cpu_count() or 1
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time (parallel test runs share it)
        if source.is_dir():
            tree, source_id = source, _tree_identity(source)
        else:
            if not tarfile.is_tarfile(source):
                raise FirmwareError(
                    "%s is neither a folder nor a tarball; %s" % (source, SOURCE_HINT)
                )
            source_id = "tar:" + _file_hash(source)
            tree = _unpack(source, cache / ("src-" + source_id[4:20]))
        version, abi = tree_version(tree)
        out = cache / build_key(source_id, bits)
        info = out / "firmware.json"
        # A tarball never changes under its hash; a clone may change in ways HEAD does not show
        # (uncommitted edits), so for a folder make decides what is out of date (incremental)
        if info.exists() and not force and not source.is_dir():
            _progress("cached build %s" % out)
            os.utime(info)  # used now: prune() keeps the most recently used
            return _firmware(out, json.loads(info.read_text()), built=False)
        # A build folder per variant's content: make does not see a changed variant header
        # (its path is not in the old objects' dependencies), so a new one starts afresh
        tag = hashlib.sha256(b"".join(f.read_bytes() for f in VARIANT_FILES)).hexdigest()[:8]
        variant = "build-pysmartnode-%d-%s" % (bits, tag)
        logs = cache / "logs"
        logs.mkdir(exist_ok=True)
        _make(["-C", str(tree / "mpy-cross"), "-j%d" % jobs], "mpy-cross", logs / "mpy-cross.log")
        options = list(MAKE_OPTIONS) + (list(MAKE_32BIT) if bits == 32 else [])
        # makemanifest recompiles a frozen module only when its source is newer than the .mpy
        # it made before, and regenerates the frozen code only when a module is newer than it:
        # a module dropped from the manifest, or an older copy of a file (another checkout),
        # would stay frozen. Start that step afresh (about a second).
        shutil.rmtree(tree / "ports" / "unix" / variant / "frozen_mpy", ignore_errors=True)
        stale = tree / "ports" / "unix" / variant / "frozen_content.c"
        if stale.exists():
            stale.unlink()
        _make(
            ["-C", str(tree / "ports" / "unix"), "-j%d" % jobs, *options,
             "FROZEN_MANIFEST=" + str(MANIFEST), "BUILD=" + variant,
             "VARIANT_DIR=" + str(VARIANT)],
            "unix port (%d-bit, frozen)" % bits,
            logs / ("unix-%d.log" % bits),
        )  # fmt: skip
        staging = cache / (out.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        shutil.copy2(tree / "mpy-cross" / "build" / "mpy-cross", staging / "mpy-cross")
        shutil.copy2(tree / "ports" / "unix" / variant / "micropython", staging / "micropython")
        meta = {"version": version, "mpy_abi": abi, "bits": bits, "source": source_id}
        (staging / "firmware.json").write_text(json.dumps(meta, indent=1))
        if (out / "firmware.json").exists():
            # A clone's rebuild: file by file, each path always there (another process, a test
            # worker, may be starting that binary now); replacing a running one is no harm
            for name in ("mpy-cross", "micropython", "firmware.json"):
                os.replace(staging / name, out / name)
            staging.rmdir()
        else:
            shutil.rmtree(out, ignore_errors=True)
            staging.rename(out)  # a cache entry is whole or absent
        prune(cache, keep=out)
        return _firmware(out, meta, built=True)


def prune(cache: Path, keep: Path | None = None, now: float | None = None) -> list[Path]:
    """Remove builds unused for PRUNE_AFTER_S beyond the KEEP_BUILDS most recently used (never
    `keep`); returns what went. Called with the cache's lock held."""
    now = time.time() if now is None else now
    builds = []
    for info in cache.glob("*/firmware.json"):
        try:
            builds.append((info.stat().st_mtime, info.parent))
        except OSError:  # another process replaced it just now
            continue
    builds.sort(reverse=True)
    gone = []
    for used, folder in builds[KEEP_BUILDS:]:
        if now - used > PRUNE_AFTER_S and folder != keep:
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(folder)
    if gone:
        _progress("removed %d builds unused for a day (cache: %s)" % (len(gone), cache))
    return gone


def _firmware(out: Path, meta: dict, built: bool) -> Firmware:
    return Firmware(
        out / "micropython",
        out / "mpy-cross",
        meta["version"],
        meta["mpy_abi"],
        meta["bits"],
        built,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, help="MicroPython folder or tarball")
    parser.add_argument("--bits", type=int, choices=(32, 64), default=64)
    parser.add_argument("-j", "--jobs", type=int)
    parser.add_argument("--cache", type=Path, help="cache folder (default %s)" % cache_root())
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--out", type=Path, help="also copy the two binaries into this folder")
    args = parser.parse_args(argv)
    source = args.source or find_source()
    if source is None:
        parser.error("name the MicroPython source: " + SOURCE_HINT)
    try:
        fw = build_firmware(source, args.bits, args.jobs, args.cache, args.force)
    except FirmwareError as e:
        print("firmware: " + str(e), file=sys.stderr)
        return 1
    micropython, mpy_cross = fw.micropython, fw.mpy_cross
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        micropython = Path(shutil.copy2(fw.micropython, args.out / "micropython"))
        mpy_cross = Path(shutil.copy2(fw.mpy_cross, args.out / "mpy-cross"))
    print("MicroPython %s, .mpy %s, %d-bit" % (fw.version, fw.mpy_abi, fw.bits))
    print("unix port: %s" % micropython)
    print("mpy-cross: %s" % mpy_cross)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
