"""Shared by the SmartServer tests (a module of its own: `conftest` is ambiguous between test
folders when the whole suite runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO, Proc, import_roots

HERE = Path(__file__).resolve().parent
TOOLS = str(REPO / "tools")
if TOOLS not in sys.path:
    sys.path.append(TOOLS)  # appended: tools/build.py must not shadow a `build` package
SECRET = "test-secret-of-node1"
ALLOW = "serverparts."

GOOD = """{
  # the living room
  living_temp: {
    package: serverparts.parts
    component: Thermo
    constructor_args: {
      pin: 4         # GPIO
      interval: 30   # s
    }
  }
  fan: {
    package: serverparts.parts
    component: Relay
    constructor_args: { pin: 5, sensor: { ref: "living_temp" } }
  }
}
"""


def server_env() -> dict[str, str]:
    return {"PYTHONPATH": ":".join([*import_roots(), TOOLS, str(HERE)])}


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`smartserver ARGS` as a process; returns the completed process (text output)."""
    return subprocess.run(
        [sys.executable, str(HERE / "server_app.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **server_env()},
        check=False,
    )


_LOGS = pytest.StashKey[list]()


def attach(request, title: str, read) -> None:
    """Show read() in the report when the test fails (also screenshots' paths)."""
    request.node.stash.setdefault(_LOGS, []).append((title, read))


class Server:
    def __init__(self, proc: Proc, folder: Path, store: Path, http_port: int) -> None:
        self.proc, self.folder, self.store, self.http_port = proc, folder, store, http_port
        self.url = f"http://127.0.0.1:{http_port}"

    def status(self) -> dict[str, dict]:
        done = run_cli(
            "status",
            "--json",
            "-c",
            str(self.folder),
            "--store",
            str(self.store),
            "--allow-package",
            ALLOW,
        )
        assert done.returncode == 0, done.stderr
        return {d["id"]: d for d in json.loads(done.stdout)}
