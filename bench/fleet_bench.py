"""A fleet booting at once against one mosquitto and one SmartServer.

    python bench/fleet_bench.py [--nodes 100] [--logs 50] [--samples 20] [--quick]

One process simulates the nodes, honestly: each is its own MQTT connection (paho) with the
node's will, publishes `online`, its status and a login request, checks the signature and the
counter of the config it gets with the node's own code (pysmartnode.utils.signing), reports
the hash it runs on `<home>/<id>/config`, then sends log lines on `<home>/log/<level>/<id>`.
The SmartServer is the real `smartserver serve` process with its SQLite store.

Prints: time until every node is configured (from the moment all start connecting), log lines
stored per second (from the first line sent until the store holds them all), and the web
table's update latency (a node publishes `offline` -> the event reaches a client of the web
page's event stream /events; the browser's rendering is not included).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(REPO / "external_modules"), str(REPO / "tools")]

from smartserver.store import Store  # noqa: E402

from pysmartnode.utils.signing import check, unseal  # noqa: E402

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
HOME = "home"
CONFIG = """{{
  # node {i}
  temp: {{ package: "fleet_parts", component: "Sensor", constructor_args: {{ pin: {i} }} }}
  hum: {{ package: "fleet_parts", component: "Sensor", constructor_args: {{ pin: 2, interval: 30 }} }}
  door: {{ package: "fleet_parts", component: "Sensor", constructor_args: {{ pin: 5 }} }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, step: float = 0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Node:
    """One simulated node: the node's side of the login/status/log protocol."""

    def __init__(self, device: str, secret: str, port: int) -> None:
        self.device, self.secret, self.port = device, secret, port
        self.configured = threading.Event()
        self.configured_at = 0.0
        self.counter = 0
        self.rejected = 0
        c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=device, protocol=paho.MQTTv311)
        c.will_set(f"{HOME}/{device}/available", "offline", qos=1, retain=True)
        c.max_inflight_messages_set(100)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        self.client = c

    def start(self) -> None:
        self.client.connect_async("127.0.0.1", self.port, keepalive=60)
        self.client.loop_start()

    def _on_connect(self, c, userdata, flags, reason, props) -> None:
        c.subscribe(f"{HOME}/login/{self.device}", qos=1)
        c.publish(f"{HOME}/{self.device}/available", "online", qos=1, retain=True)
        status = {
            "version": "7.0.0.dev0",
            "platform": "sim",
            "id": self.device,
            "uptime": 1,
            "ram_free": 40000,
            "reconnects": 0,
            "ip": "127.0.0.1",
        }
        c.publish(f"{HOME}/{self.device}/status", json.dumps(status), qos=1)
        req = {"version": "7.0.0.dev0", "platform": "sim", "counter": self.counter, "hash": None}
        c.publish(f"{HOME}/login/{self.device}/set", json.dumps(req), qos=1)

    def _on_message(self, c, userdata, msg) -> None:
        try:
            body = unseal(self.secret, msg.payload)
            check(body, self.device, self.counter)
        except ValueError:
            self.rejected += 1
            return
        self.counter = body["counter"]
        result = {"counter": body["counter"], "hash": body["hash"], "ok": True, "source": "server"}
        c.publish(f"{HOME}/{self.device}/config", json.dumps(result), qos=1, retain=True)
        if not self.configured.is_set():
            self.configured_at = time.monotonic()
            self.configured.set()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class EventStream:
    """A client of the web page's /events: records when each device's availability arrives."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request("GET", "/events")
        self.resp = self.conn.getresponse()
        self.seen: list[tuple[float, str, str]] = []
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = None
        try:
            for raw in self.resp:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    if event == "fleet":
                        self.ready.set()
                    elif event == "device":
                        d = json.loads(line[6:])
                        self.seen.append((time.monotonic(), d["id"], d["availability"]))
        except (OSError, ValueError, http.client.HTTPException):
            pass

    def close(self) -> None:
        self.conn.close()


def run(n_nodes: int, n_logs: int, samples: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    procs: list[subprocess.Popen] = []
    nodes: list[Node] = []
    try:
        mport, hport = free_port(), free_port()
        (work / "m.conf").write_text(
            f"listener {mport} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n"
        )
        procs.append(
            subprocess.Popen(
                [MOSQUITTO, "-c", str(work / "m.conf")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_for(lambda: listening(mport), 10, "mosquitto")
        configs = work / "configs"
        configs.mkdir()
        store_path = work / "smartserver.db"
        store = Store(store_path)
        keys = {}
        for i in range(n_nodes):
            device = f"sim{i:03d}"
            (configs / f"{device}.hjson").write_text(CONFIG.format(i=i))
            keys[device] = secrets.token_hex(32)
            store.set_secret(device, keys[device])
        store.close()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), str(REPO / "external_modules"), str(REPO / "tools"), str(BENCH)]
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "smartserver",
                "serve",
                "-c",
                str(configs),
                "--store",
                str(store_path),
                "--broker",
                f"127.0.0.1:{mport}",
                "--http",
                f"127.0.0.1:{hport}",
                "--allow-package",
                "fleet_parts",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(server)
        wait_for(lambda: listening(hport), 20, "the SmartServer's web page")
        stream = EventStream(hport)
        wait_for(stream.ready.is_set, 10, "the event stream")
        time.sleep(1.0)  # the server has connected and subscribed (it logs; we do not read it)

        # 1. all nodes boot at once
        nodes = [Node(d, keys[d], mport) for d in sorted(keys)]
        t0 = time.monotonic()
        for node in nodes:
            node.start()
        wait_for(lambda: all(n.configured.is_set() for n in nodes), 120, "every node configured")
        boot = sorted(n.configured_at - t0 for n in nodes)
        rejected = sum(n.rejected for n in nodes)

        # 2. log lines: every node sends n_logs lines at once
        db = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)

        def stored() -> int:
            return db.execute("SELECT COUNT(*) FROM logs").fetchone()[0]

        before = stored()
        total = n_nodes * n_logs
        t1 = time.monotonic()
        for k in range(n_logs):
            for node in nodes:
                node.client.publish(
                    f"{HOME}/log/info/{node.device}",
                    f"[sensor] reading {k} of {node.device}: 21.5",
                    qos=1,
                )
        sent = time.monotonic() - t1
        wait_for(lambda: stored() - before >= total, 120, f"{total} log lines stored", 0.005)
        log_seconds = time.monotonic() - t1
        db.close()

        # 3. web table latency: a node goes offline -> its row's event on /events
        latencies = []
        for node in nodes[:samples]:
            mark = len(stream.seen)
            t2 = time.monotonic()
            node.client.publish(f"{HOME}/{node.device}/available", "offline", qos=1, retain=True)
            got = wait_for(
                lambda node=node, mark=mark: next(
                    (s for s in stream.seen[mark:] if s[1] == node.device and s[2] != "online"),
                    None,
                ),
                10,
                f"{node.device} offline on the event stream",
                0.001,
            )
            latencies.append(got[0] - t2)
        stream.close()
        return {
            "nodes": n_nodes,
            "all_configured_s": boot[-1],
            "median_configured_s": statistics.median(boot),
            "rejected": rejected,
            "log_lines": total,
            "log_publish_s": sent,
            "log_lines_per_s": total / log_seconds,
            "web_latency_ms": [x * 1000 for x in latencies],
        }
    except Exception:
        log = work / "server.log"
        if log.exists():
            print(log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        for node in nodes:
            try:
                node.stop()
            except Exception:  # a half-connected client must not keep the rest running
                pass
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, default=100)
    p.add_argument("--logs", type=int, default=50, help="log lines per node")
    p.add_argument("--samples", type=int, default=20, help="offline events timed on /events")
    p.add_argument("--quick", action="store_true", help="10 nodes, 10 lines, 5 samples")
    args = p.parse_args()
    if args.quick:
        args.nodes, args.logs, args.samples = 10, 10, 5
    r = run(args.nodes, args.logs, min(args.samples, args.nodes))
    lat = sorted(r["web_latency_ms"])
    p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
    print(
        f"fleet: {r['nodes']} simulated nodes, one mosquitto, one SmartServer ({os.cpu_count()} cores)"
    )
    print(
        f"  all configured (signed config verified) after {r['all_configured_s']:.2f} s"
        f" (median node {r['median_configured_s']:.2f} s); rejected: {r['rejected']}"
    )
    print(
        f"  log lines stored: {r['log_lines']} in {r['log_lines'] / r['log_lines_per_s']:.2f} s"
        f" = {r['log_lines_per_s']:.0f} lines/s (sent in {r['log_publish_s']:.2f} s)"
    )
    print(
        f"  web table update (offline -> /events): median {statistics.median(lat):.1f} ms,"
        f" p95 {p95:.1f} ms, max {lat[-1]:.1f} ms over {len(lat)} nodes"
    )
    return 0 if r["rejected"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
