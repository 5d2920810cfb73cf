"""Cross-check discovery payloads with Home Assistant's own schemas, offline.

Home Assistant >= 2024.11 (device discovery) needs Python >= 3.13, the suite runs on 3.10+:
so a separate virtualenv with a pinned ``homeassistant`` is built ONCE, on first use, under
``~/.cache/pysmartnode/ha-venv-<version>`` (``$PYSMARTNODE_HA_CACHE`` to move it), with a file
lock so that parallel pytest workers build it once. Only the packages HA's MQTT schemas import
are installed (``homeassistant --no-deps`` plus a short list, pinned by HA's own
``package_constraints.txt``): about 20 s with a warm pip cache. ``ha_schema_check.py`` then runs
in it and validates the payloads the way HA's discovery code does.

The interpreter: ``$PYSMARTNODE_HA_PYTHON``, else a working ``python3.13`` on PATH, else pyenv's
3.13 versions. None found: :class:`HAUnavailable` (the ``ha_validate`` fixture skips, or fails
under ``CI=true``).
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HA_VERSION = "2025.4.4"  # the newest HA that installs on Python 3.13.0 (homeassistant-2026.md)
_SCRIPT = Path(__file__).with_name("ha_schema_check.py")
# What HA's mqtt discovery and schema modules import (besides the standard library).
_PACKAGES = (
    "voluptuous voluptuous-serialize jinja2 PyYAML aiohttp aiohttp_cors yarl orjson attrs"
    " awesomeversion python-slugify ciso8601 propcache lru-dict PyJWT bcrypt cryptography ifaddr"
    " hass-nabucasa annotatedyaml atomicwrites-homeassistant aiozoneinfo ulid-transform"
    " webrtc-models async_interrupt packaging"
).split()
_BUILD_TIMEOUT = 900  # seconds, for each pip step (a cold pip cache downloads about 100 MB)
_OK_MARK = ".pysmartnode-ha-ok"


class HAUnavailable(Exception):
    """No Python >= 3.13 to run Home Assistant's schemas with."""


def _works(python: str) -> bool:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info >= (3, 13))"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "True"


def find_python() -> str:
    """A Python >= 3.13 interpreter, or HAUnavailable saying where it looked."""
    candidates = []
    if os.environ.get("PYSMARTNODE_HA_PYTHON"):
        candidates.append(os.environ["PYSMARTNODE_HA_PYTHON"])
    for name in ("python3.13",):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.13*", "bin", "python3")))
    for python in candidates:
        if _works(python):
            return python
    raise HAUnavailable(
        "no Python >= 3.13 for Home Assistant's schemas (looked at $PYSMARTNODE_HA_PYTHON,"
        " python3.13 on PATH, pyenv versions 3.13*): install one, e.g. `pyenv install 3.13`"
    )


def cache_dir() -> Path:
    root = os.environ.get("PYSMARTNODE_HA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pysmartnode"
    )
    return Path(root)


def _run(argv: list[str], log) -> None:
    log.write("$ %s\n" % " ".join(argv))
    log.flush()
    proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, timeout=_BUILD_TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError("%s exited %d" % (argv[:4], proc.returncode))


def _build(python: str, venv: Path, log) -> None:
    _run([python, "-m", "venv", str(venv)], log)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-input"]
    pip.append("--disable-pip-version-check")
    _run(pip + ["--no-deps", "homeassistant==" + HA_VERSION], log)
    found = glob.glob(str(venv / "lib" / "python3*" / "site-packages" / "homeassistant"))
    constraints = Path(found[0]) / "package_constraints.txt"
    _run(pip + ["-c", str(constraints)] + list(_PACKAGES), log)
    check = subprocess.run(
        [str(venv / "bin" / "python"), str(_SCRIPT)],
        input="[]",
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check.returncode != 0 or check.stdout.strip() != "[]":
        log.write(check.stdout + check.stderr)
        raise RuntimeError("the schema check does not run in the new venv")
    (venv / _OK_MARK).write_text(HA_VERSION + "\n")


def ensure_venv() -> Path:
    """The venv's python, building the venv first if needed (once, under a lock)."""
    venv = cache_dir() / ("ha-venv-" + HA_VERSION)
    python = venv / "bin" / "python"
    if (venv / _OK_MARK).exists():
        return python
    interpreter = find_python()
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(str(venv) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second worker waits here, then finds it built
        if (venv / _OK_MARK).exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)  # a half-built one from an interrupted run
        log_path = Path(str(venv) + ".log")
        with open(log_path, "w") as log:
            try:
                _build(interpreter, venv, log)
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
                shutil.rmtree(venv, ignore_errors=True)
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(
                    "building the Home Assistant venv failed (%s); log %s:\n%s"
                    % (e, log_path, tail)
                ) from None
    return python


def validate(messages: list[tuple[str, str | bytes]]) -> list[list[str]]:
    """HA's verdict on each (topic, payload): a list of problems per message."""
    python = ensure_venv()
    data = [
        {"topic": t, "payload": p.decode("utf-8") if isinstance(p, bytes) else p}
        for t, p in messages
    ]
    proc = subprocess.run(
        [str(python), str(_SCRIPT)],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError("ha_schema_check.py failed:\n" + proc.stderr[-3000:])
    return json.loads(proc.stdout)


def run_code(code: str) -> str:
    """Runs Python code in the HA venv; its stdout (e.g. a table of HA's, as JSON)."""
    proc = subprocess.run(
        [str(ensure_venv()), "-c", code], capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        raise RuntimeError("code in the HA venv failed:\n" + proc.stderr[-3000:])
    return proc.stdout


if __name__ == "__main__":  # python tests/harness/ha_check.py: build the venv, say where
    print(ensure_venv(), file=sys.stdout)
