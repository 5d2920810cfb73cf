"""Component figures: switch round trip, boot to discovered, heap per component, smallest heap.

    python bench/component_bench.py            # everything (~3 min)
    python bench/component_bench.py --quick    # small counts, one boot run (~1 min)
    python bench/component_bench.py --only rtt,boot,heap,minheap

- rtt: a paho client publishes ON/OFF to a switch's `/set` and times the state coming back
  (p50/p99), on CPython and on the unix port.
- boot: from starting the process to the device config (with every entity) and a state of every
  stateful component seen by a paho client, for a node with 20 components (median of runs).
- heap: gc.mem_alloc() after a collection, per added sensor and per added switch (unix port),
  built through the registry and started, the classes' code already loaded.
- minheap: the smallest `-X heapsize` in which a node with 5 sensors + 3 switches comes up
  (config and all states), lives through a hold and still answers a status request; from the
  .py tree and from the .mpy tree (tools/build.py).

Host code; every process is stopped and every wait bounded. Prints a table; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from node_common import (
    REPO,
    Mosquitto,
    Watcher,
    build_mpy,
    micropython,
    node_command,
    node_env,
    stop_node,
    write_config,
)

# The benchmark's own components, written beside components.py in every node folder
PARTS = """
import asyncio
from pysmartnode.utils.component import ComponentSensor, ComponentSwitch, ComponentButton
from pysmartnode.utils.component import ComponentBinarySensor


class Meter(ComponentSensor):
    def __init__(self, name, **kwargs):
        super().__init__(name, **kwargs)
        self._add_sensor_type("temperature", precision=1)
        self._n = 0

    async def _read(self):
        self._n += 1
        self._set_value("temperature", 20 + self._n % 10 / 10)


class Relay(ComponentSwitch):
    async def _on(self):
        return True

    async def _off(self):
        return True


class Press(ComponentButton):
    async def _press(self):
        pass


class Contact(ComponentBinarySensor):
    def _start(self):
        super()._start()
        self._set_state(False)
"""


class Broker(Mosquitto):
    """node_common's mosquitto, optionally with `set_tcp_nodelay true`.

    mosquitto's default (false) leaves Nagle on for its sockets: a state it forwards to a
    subscriber can wait ~40 ms for the subscriber's delayed ACK. That delay is the broker's,
    the same for every client; the round trip is measured both ways."""

    def __init__(self, nodelay: bool = False) -> None:
        self.nodelay = nodelay

    def __enter__(self) -> Broker:
        import shutil

        from node_common import MOSQUITTO, _listening, free_port

        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="comp-bench-broker-"))
        conf = self.dir / "m.conf"
        extra = "set_tcp_nodelay true\n" if self.nodelay else ""
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n{extra}")
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            if time.monotonic() > deadline:
                raise TimeoutError("mosquitto did not start")
            time.sleep(0.01)
        del shutil
        return self


def entry(cls: str, **args: object) -> dict:
    return {"package": "benchparts", "component": cls, "constructor_args": args}


def node_folder(port: int, components: dict, **options: object) -> tuple[Path, Path, str]:
    folder = Path(tempfile.mkdtemp(prefix="comp-bench-"))
    config, device_id = write_config(folder, port, WATCHDOG_TIMEOUT=30, **options)
    (folder / "benchparts.py").write_text(PARTS)
    (folder / "components.py").write_text(f"COMPONENTS = {components!r}\n")
    return folder, config, device_id


def start(runtime: str, folder: Path, config: Path, heap: str | None = None, root: Path = REPO):
    return subprocess.Popen(
        node_command(runtime, config, heap, root),
        env=node_env(runtime, root),
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class Discovery(Watcher):
    """A Watcher that also records the discovery topics."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.client.subscribe("homeassistant/#", 1)
        time.sleep(0.05)


def wait_ready(w: Watcher, device_id: str, stateful: list[str], entities: int, timeout: float):
    """time_ns when the config with `entities` components and a state of each of `stateful`
    have all been seen, or None."""
    deadline = time.monotonic() + timeout
    topic = f"homeassistant/device/{device_id}/config"
    while time.monotonic() < deadline:
        config_t = None
        for t, top, payload in list(w.events):
            if top == topic and payload and len(json.loads(payload)["cmps"]) >= entities:
                config_t = t
                break
        if config_t is not None:
            seen = {}
            for t, top, _ in list(w.events):
                name = top.rsplit("/", 1)[-1]
                if top == f"home/{device_id}/{name}" and name in stateful and name not in seen:
                    seen[name] = t
            if len(seen) == len(stateful):
                return max(config_t, *seen.values())
        time.sleep(0.005)
    return None


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class StateWatcher:
    """A paho client subscribed to one state topic only, TCP_NODELAY on its socket.

    Watching the command topic too would put our own command on the broker's socket to us
    first; mosquitto (set_tcp_nodelay false by default) then holds the state behind our
    delayed ACK for 40 ms: a figure of the watcher, not of the node."""

    def __init__(self, port: int, topic: str) -> None:
        import socket
        import threading

        import paho.mqtt.client as paho

        self.topic = topic
        self.got: list[tuple[int, bytes]] = []
        self.cond = threading.Condition()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.subscribe(topic, 1)
        self.client.loop_start()
        time.sleep(0.1)

    def _on_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        with self.cond:
            self.got.append((time.time_ns(), msg.payload))
            self.cond.notify_all()

    def command(self, payload: bytes, timeout: float = 5) -> float | None:
        """ms from publishing payload on topic/set to payload arriving on topic."""
        with self.cond:
            mark = len(self.got)
        t0 = time.time_ns()
        self.client.publish(self.topic + "/set", payload, qos=0)  # as HA does (its default)
        deadline = time.monotonic() + timeout
        with self.cond:
            while time.monotonic() < deadline:
                for t, p in self.got[mark:]:
                    if p == payload:
                        return (t - t0) / 1e6
                self.cond.wait(0.5)
        return None

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def bench_rtt(port: int, runtime: str, count: int) -> tuple[float, float]:
    folder, config, device_id = node_folder(port, {"relay": entry("Relay", restore="off")})
    w = Discovery(port)
    proc = start(runtime, folder, config)
    sw = None
    try:
        if wait_ready(w, device_id, ["relay"], 6, 20) is None:
            raise RuntimeError("the node did not come up")
        sw = StateWatcher(port, f"home/{device_id}/relay")
        times = []
        for i in range(count + 5):
            ms = sw.command(b"ON" if i % 2 == 0 else b"OFF")
            if ms is None:
                raise RuntimeError("no state for command %d" % i)
            if i >= 5:  # the first ones warm the path up
                times.append(ms)
        return statistics.median(times), percentile(times, 99)
    finally:
        stop_node(proc)
        w.close()
        if sw is not None:
            sw.close()


def boot_components() -> tuple[dict, list[str]]:
    components = {}
    for i in range(12):
        components[f"meter{i}"] = entry("Meter", interval_reading=60, interval_publish=60)
    for i in range(6):
        components[f"relay{i}"] = entry("Relay", restore="off")
    components["press"] = entry("Press")
    components["contact"] = entry("Contact")
    stateful = [k for k in components if k != "press"]
    return components, stateful


def bench_boot(port: int, runtime: str, runs: int) -> float:
    components, stateful = boot_components()
    results = []
    for _ in range(runs):
        folder, config, device_id = node_folder(port, components)
        w = Discovery(port)
        t0 = time.time_ns()
        proc = start(runtime, folder, config)
        try:
            done = wait_ready(w, device_id, stateful, 20 + 5, 30)
            if done is None:
                raise RuntimeError("not all entities were discovered and stated")
            results.append((done - t0) / 1e6)
        finally:
            stop_node(proc)
            w.close()
    return statistics.median(results)


HEAP_SCRIPT = """
import asyncio, gc, sys
sys.path.insert(0, '.')
from pysmartnode import node
from pysmartnode.networking.mqtt import MQTTHandle
from pysmartnode.utils import registry
import benchparts

def used():
    gc.collect()
    gc.collect()
    return gc.mem_alloc()

async def main():
    node.mqtt = MQTTHandle("heap", "home", "available", None, server="127.0.0.1", port=PORT)
    await node.mqtt.connect()  # connected: a first reading is sent, not held in the queue
    out = {}
    for cls, n in (("Meter", 10), ("Relay", 10)):
        await registry.build({"warm_" + cls: {"package": "benchparts", "component": cls}})
        await asyncio.sleep(2)
        before = used()
        batch = {}
        for i in range(n):
            batch["%s%d" % (cls, i)] = {"package": "benchparts", "component": cls}
        await registry.build(batch)
        await asyncio.sleep(2)  # first readings published, restore windows closed
        out[cls] = (used() - before) / n
    print("HEAP", out["Meter"], out["Relay"])

asyncio.run(main())
"""


def bench_heap(port: int) -> tuple[float, float]:
    folder = Path(tempfile.mkdtemp(prefix="comp-heap-"))
    (folder / "benchparts.py").write_text(PARTS)
    (folder / "heap.py").write_text(HEAP_SCRIPT.replace("PORT", str(port)))
    proc = subprocess.run(
        [micropython(), "-X", "heapsize=2M", "heap.py"],
        env=node_env("micropython"),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("HEAP"):
            _, sensor, switch = line.split()
            return float(sensor), float(switch)
    raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:])


def small_node() -> tuple[dict, list[str]]:
    components = {
        f"meter{i}": entry("Meter", interval_reading=2, interval_publish=2) for i in range(5)
    }
    components |= {f"relay{i}": entry("Relay", restore="off") for i in range(3)}
    return components, list(components)


def runs_in(port: int, root: Path, kib: int, hold: float) -> bool:
    components, stateful = small_node()
    folder, config, device_id = node_folder(port, components)
    w = Discovery(port)
    proc = start("micropython", folder, config, f"{kib}k", root)
    try:
        if wait_ready(w, device_id, stateful, 8 + 5, 15) is None:
            return False
        try:
            proc.wait(timeout=hold)
            return False  # it ended during the hold
        except subprocess.TimeoutExpired:
            pass
        mark = len(w.events)
        status = f"home/{device_id}/status"
        w.client.publish(status + "/set", "now", qos=1)
        return w.wait(status, 10, mark) is not None and proc.poll() is None
    finally:
        stop_node(proc)
        w.close()


def bench_minheap(port: int, root: Path, hold: float) -> int:
    low, high = 8, 512  # KiB: low fails, high passes
    if not runs_in(port, root, high, 2):
        raise RuntimeError(f"the node does not run even in {high} KiB")
    while high - low > 1:
        mid = (low + high) // 2
        if runs_in(port, root, mid, 2):
            high = mid
        else:
            low = mid
    for kib in (high, high + 1, high + 2, high + 4, high + 8):
        if runs_in(port, root, kib, hold):
            return kib
    return -1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="rtt,boot,heap,minheap")
    args = parser.parse_args()
    only = set(args.only.split(","))
    count, runs, hold = (30, 1, 3) if args.quick else (300, 5, 15)
    failed = []
    if "rtt" in only:
        print(f"switch command (QoS 0, as HA sends it) -> state, paho client, {count} commands")
        for nodelay in (True, False):
            with Broker(nodelay) as broker:
                label = "mosquitto set_tcp_nodelay " + ("true" if nodelay else "false (default)")
                for runtime in ("cpython", "micropython"):
                    try:
                        p50, p99 = bench_rtt(broker.port, runtime, count)
                        print(f"  {runtime:<12} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   {label}")
                    except Exception as e:
                        failed.append(f"rtt {runtime}: {e}")
    with Mosquitto() as broker:
        if "boot" in only:
            print(f"boot -> 20 components discovered and stated (median of {runs})")
            for runtime in ("cpython", "micropython"):
                try:
                    print(f"  {runtime:<12} {bench_boot(broker.port, runtime, runs):7.0f} ms")
                except Exception as e:
                    failed.append(f"boot {runtime}: {e}")
        if "heap" in only:
            try:
                sensor, switch = bench_heap(broker.port)
                print("heap per added component, unix port (gc.mem_alloc after collect)")
                print(f"  sensor {sensor:7.0f} B   switch {switch:7.0f} B")
            except Exception as e:
                failed.append(f"heap: {e}")
        if "minheap" in only:
            print(f"smallest -X heapsize, 5 sensors + 3 switches, unix port, held {hold:.0f} s")
            for label, root in (("py", REPO), ("mpy", None)):
                try:
                    kib = bench_minheap(broker.port, root or build_mpy(), hold)
                    print(f"  .{label:<4} {kib:5d} KiB")
                except Exception as e:
                    failed.append(f"minheap {label}: {e}")
    for f in failed:
        print("FAILED", f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
