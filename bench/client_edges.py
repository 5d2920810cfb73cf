"""Our client at the edges, on CPython and the unix port: file descriptors after many reconnects,
the time from close() to the will, the largest retained message a 64 KiB-free heap receives.

    python3 bench/client_edges.py            # 100 reconnects, 5 wills, RESULTS.md section
    python3 bench/client_edges.py --quick    # 10 reconnects, 2 wills, no bisection, nothing written

- fds: the client connects (worker client_edges_worker.py); 100 times the benchmark connects a
  raw MQTT client with the same client id, so mosquitto drops ours, which reconnects. The open
  file descriptors (/proc/self/fd) once connected the first time and after the last reconnect
  must be equal, and so must those before connect() and after disconnect().
- will: the client connects with a will, then close() (socket closed, no DISCONNECT); a paho
  subscriber stamps the will. Time from the close() call to the will's arrival, median of 5.
- retained (unix port only): the client subscribes to a retained message of N bytes, with 64 KiB
  of heap free: (a) `-X heapsize` = what the client holds once connected + 64 KiB; (b) a 512 KiB
  heap where ballast, allocated after connect, leaves 64 KiB free (in the holes between the
  objects connect() made: a fragmented heap, as on a board that has run a while). Bisection
  (128 B steps) for the largest N that arrives whole with no fault.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH,
    Mosquitto,
    Worker,
    median,
    mp_program,
    paho_client,
    paho_connect,
    paho_subscribe,
)

EDGE_WORKER = BENCH / "client_edges_worker.py"
RESULTS = BENCH / "RESULTS.md"
SECTION = "## Client at the edges"


def kick(port: int, client_id: str) -> None:
    """Connect a bare MQTT client with `client_id`: the broker drops the one that had it."""
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack("!H", len(cid)) + cid
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(bytes([0x10, len(body)]) + body)
        s.recv(4)  # CONNACK: the takeover has happened
        s.sendall(b"\xe0\x00")


def wait_event(w: Worker, name: str, count: int, timeout: float) -> dict:
    """The count-th event called `name` (1-based), or raise after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in list(w.events) if e["ev"] == name]
        if len(found) >= count:
            return found[count - 1]
        errors = [e for e in list(w.events) if e["ev"] == "error"]
        if errors:
            raise RuntimeError(f"worker error: {errors[0].get('msg')} {w.tail()}")
        time.sleep(0.005)
    raise RuntimeError(f"no {name} #{count} within {timeout:g} s: {w.tail()}")


def fds(port: int, runtime: str, n: int) -> dict:
    cid = f"edge-fds-{runtime}"
    w = Worker(runtime, EDGE_WORKER, {"mode": "fds", "port": port, "client_id": cid, "n": n})
    try:
        start = wait_event(w, "up", 1, 20)["fds"]
        for i in range(1, n + 1):
            kick(port, cid)
            last = wait_event(w, "up", i + 1, 20)["fds"]
        end = w.wait("result", 30)
        return {
            "start": start,  # connected, first time
            "end": last,  # connected, after the last reconnect
            "before": end["before"],  # before connect()
            "after": end["fds"],  # after disconnect()
            "reconnects": end["reconnects"],
        }
    finally:
        w.finish(10)


def will(port: int, runtime: str, times: int, linger: float = 3) -> dict:
    topic = f"bench/will/{runtime}"
    stamps: list[int] = []
    got = threading.Event()
    obs = paho_client(f"edge-will-obs-{runtime}")

    def on_message(client, userdata, msg):
        stamps.append(time.time_ns())
        got.set()

    obs.on_message = on_message
    paho_connect(obs, port)
    paho_subscribe(obs, topic)
    delays = []
    try:
        for i in range(times):
            got.clear()
            w = Worker(
                runtime,
                EDGE_WORKER,
                {
                    "mode": "will",
                    "port": port,
                    "client_id": f"edge-will-{i}",
                    "topic": topic,
                    "linger": linger,
                },  # fmt: skip
            )
            try:
                t_close = w.wait("result", 20)["t_close"]
                if not got.wait(10):  # the worker lingers 3 s after close(), then exits
                    raise RuntimeError("no will within 10 s of close()")
                delays.append((stamps[-1] - t_close) / 1e6)
            finally:
                w.finish(10)
    finally:
        obs.loop_stop()
        obs.disconnect()
    return {"median_ms": median(delays), "max_ms": max(delays), "n": len(delays)}


def retained(port: int, free: int = 64 * 1024, quick: bool = False) -> dict:
    """Largest retained message that arrives whole: (a) in a heap sized to leave `free` bytes
    after connect, (b) in a big heap filled with ballast until `free` bytes are left (the free
    space is then the holes between the objects connect() made). Quick: no bisection, only
    256 B and 2 KiB must arrive in both heaps (the probe still works end to end)."""
    pub = paho_client("edge-retained-pub")
    paho_connect(pub, port)
    topic = "bench/retained/big"

    def probe(size: int, heap: str, ballast: bool) -> dict:
        pub.publish(topic, b"r" * size, qos=1, retain=True).wait_for_publish(10)
        params = {"mode": "retained", "port": port, "client_id": "edge-ret", "topic": topic}
        w = Worker("micropython", EDGE_WORKER, params | {"free": free if ballast else 0}, heap)
        try:
            r = w.wait("result", 30)
        except RuntimeError as e:
            r = {"error": str(e)}
        finally:
            w.finish(10)
        r["ok"] = r.get("got") == size and not r.get("faults")
        return r

    def largest(heap: str, ballast: bool) -> dict:
        lo, hi = 256, 256 * 1024  # lo arrives, hi does not (both checked)
        first = probe(lo, heap, ballast)
        if not first["ok"]:
            raise RuntimeError(f"even {lo} B does not arrive: {first}")
        if quick:  # a failing probe waits for its timeout: the bisection is for the full run
            small = probe(2048, heap, ballast)
            if not small["ok"]:
                raise RuntimeError(f"2048 B does not arrive: {small}")
            return {"largest": 2048, "note": "quick: not bisected", "free": first["free"]}
        if probe(hi, heap, ballast)["ok"]:
            return {"largest": hi, "note": "the upper bound arrived", "free": first["free"]}
        while hi - lo > 128:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if probe(mid, heap, ballast)["ok"] else (lo, mid)
        return {"largest": lo, "first_failing": hi, "free": first["free"]}

    try:
        alloc = probe(256, "2M", False).get("alloc")
        if not alloc:
            raise RuntimeError("the client does not connect even in 2 MiB")
        heap_k = -(-(alloc + free) // 1024)
        out = {"alloc": alloc, "heap_k": heap_k}
        out["sized"] = largest(f"{heap_k}k", False)
        out["ballast"] = largest("512k", True)
        return out
    finally:
        pub.publish(topic, b"", retain=True).wait_for_publish(5)  # clear it
        pub.loop_stop()
        pub.disconnect()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    # quick: the worker lingers 1.5 s after close(), still long enough to tell close()'s will
    # from the one its exit would fire
    n, times, linger = (10, 2, 1.5) if args.quick else (100, 5, 3)
    runtimes = ["cpython"] + (["micropython"] if mp_program() else [])
    out: dict[str, dict] = {}
    failed = []
    with tempfile.TemporaryDirectory(prefix="bench-edges-") as tmp:
        broker = Mosquitto(Path(tmp))
        broker.start()
        try:
            for rt in runtimes:
                for name, fn in (("fds", lambda rt=rt: fds(broker.port, rt, n)),
                                 ("will", lambda rt=rt: will(broker.port, rt, times, linger))):  # fmt: skip
                    try:
                        out[f"{name} {rt}"] = fn()
                    except Exception as e:
                        failed.append(f"{name} {rt}: {e}")
                        out[f"{name} {rt}"] = {"error": str(e)[:200]}
                    print(f"{name:5} {rt:12} {out[f'{name} {rt}']}", flush=True)
            if "micropython" in runtimes:
                try:
                    out["retained micropython"] = retained(broker.port, quick=args.quick)
                except Exception as e:
                    failed.append(f"retained: {e}")
                    out["retained micropython"] = {"error": str(e)[:200]}
                print(f"retained micropython {out['retained micropython']}", flush=True)
        finally:
            broker.stop(kill=True)
    table = render(out, n, times)
    print(table)
    for rt in runtimes:  # a verdict, not a failed measurement: it does not change the exit status
        f = out.get(f"fds {rt}", {})
        if "start" in f:
            ok = "met" if (f["start"], f["before"]) == (f["end"], f["after"]) else "MISSED"
            print(f"target: fds after {n} reconnects = fds at start ({rt}): {ok}")
    for rt in runtimes:
        w = out.get(f"will {rt}", {})
        if "max_ms" in w and w["max_ms"] > 1000:
            print(f"note: the will ({rt}) came {w['max_ms']:.0f} ms after close(): "
                  "close() left the socket open until the worker exited")  # fmt: skip
    if not args.quick and not failed:
        write_section(table)
    for line in failed:
        print("FAILED:", line)
    return 1 if failed else 0


def render(out: dict, n: int, times: int) -> str:
    def cell(key: str, fmt) -> str:
        v = out.get(key)
        if v is None:
            return "–"
        return "FAILED" if "error" in v else fmt(v)

    rows = [
        (f"open fds, connected: first connect / after {n} forced reconnects",
         lambda v: f"{v['start']} / {v['end']} ({v['reconnects']} reconnects)", "fds"),
        ("open fds, not connected: before connect() / after disconnect()",
         lambda v: f"{v['before']} / {v['after']}", "fds"),
        (f"close() → will at a paho subscriber (median of {times}; max)",
         lambda v: f"{v['median_ms']:.1f} ms ({v['max_ms']:.1f})", "will"),
    ]  # fmt: skip
    lines = ["| figure | CPython | unix port |", "|---|---|---|"]
    for name, fmt, key in rows:
        lines.append(
            f"| {name} | {cell(key + ' cpython', fmt)} | {cell(key + ' micropython', fmt)} |"
        )
    r = out.get("retained micropython")
    if r is not None:
        if "error" in r:
            lines.append("| largest retained message received with 64 KiB heap free | – | FAILED |")
        else:
            for key, how in (
                ("sized", f"-X heapsize={r['heap_k']}k: {r['alloc']:,} B in use once connected"),
                ("ballast", "512k heap, ballast allocated after connect until 64 KiB are free"),
            ):
                v = r[key]
                bound = (
                    f"first failing {v['first_failing']:,} B"
                    if "first_failing" in v
                    else v.get("note", "")
                )
                lines.append(
                    f"| largest retained message received whole with 64 KiB free ({how}) | – | "
                    f"{v['largest']:,} B ({bound}) |"
                )
    return "\n".join(lines)


def write_section(table: str) -> None:
    text = RESULTS.read_text()
    body = (
        f"{SECTION}\n\nWritten by `python3 bench/client_edges.py` "
        f"({time.strftime('%Y-%m-%d')}; see its docstring for the method).\n\n{table}\n"
    )
    if SECTION in text:
        head, _, rest = text.partition(SECTION)
        nxt = rest.find("\n## ")
        text = head + body + (rest[nxt:] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    RESULTS.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
