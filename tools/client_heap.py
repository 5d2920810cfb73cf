"""Smallest heap of the MQTT client (connect, subscribe, 100 QoS 1 publishes) on the unix port.

    python3 tools/client_heap.py                     # frozen, .mpy and .py, 64-bit
    python3 tools/client_heap.py --bits 32 --kinds frozen
    python3 tools/client_heap.py --map               # also micropython.mem_info(1), frozen

One firmware from tools/firmware.py (mqtt_as frozen in) runs every kind, so they differ only in
where the client's code lives: frozen (a folder with the app alone: the code stays in the
image), .mpy (mpy-cross output first on the path) or .py (the sources first on the path). The
app connects to a mosquitto started here on a free 127.0.0.1 port, subscribes, publishes 100
QoS 1 messages and checks that no fault happened. The smallest `-X heapsize` at which it does
is found by bisection (1 KiB steps) and confirmed twice; gc.mem_alloc() after import, after
construction, once connected and after the publishes is printed beside it.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent
EXT = REPO / "external_modules"
KINDS = ("frozen", "mpy", "py")

# The app: as small as it can be, so that its own compilation weighs little beside the client
APP = """\
import gc
import sys
gc.collect()
BARE = gc.mem_alloc()
import asyncio
from mqtt_as import MQTTClient
gc.collect()
IMPORTED = gc.mem_alloc()


async def main(port, dump):
    c = MQTTClient({"server": "127.0.0.1", "port": port, "client_id": "heap-probe"})
    gc.collect()
    made = gc.mem_alloc()
    await c.connect()
    gc.collect()
    conn = gc.mem_alloc()
    await c.subscribe("heap/probe/in", 1)
    for i in range(100):
        if not c.isconnected():
            break
        if not await c.publish("heap/probe/out", b"%d" % i, qos=1):
            raise OSError("publish %d failed" % i)
    gc.collect()
    after = gc.mem_alloc()
    if dump:
        import micropython

        micropython.mem_info(1)
    faults = c.stats()["faults"]
    await c.disconnect()
    print("OK" if not faults else "FAULTS", BARE, IMPORTED, made, conn, after, faults)


# No asyncio.wait_for around main: it would import asyncio.funcs, which the client does not
# need, and keep two tasks alive; the client's own deadlines and the tool's timeout bound it
asyncio.run(main(int(sys.argv[1]), len(sys.argv) > 2))
"""


def load_firmware_tool():
    spec = importlib.util.spec_from_file_location("client_heap_firmware", TOOLS / "firmware.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        conf = folder / "mosquitto.conf"
        conf.write_text("listener %d 127.0.0.1\nallow_anonymous true\n" % self.port)
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen(
            [exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run(micropython: Path, path: str, app_dir: Path, port: int, kib, dump=False):
    """One run at `kib` KiB of heap (an int), or at exactly that many bytes (a str)."""
    heap = ["-X", "heapsize=%s" % (kib if isinstance(kib, str) else "%dk" % kib)] if kib else []
    try:
        r = subprocess.run(
            [str(micropython), *heap, "app.py", str(port), *(["dump"] if dump else [])],
            capture_output=True, text=True, timeout=15, cwd=app_dir,
            env={"MICROPYPATH": path, "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    except subprocess.TimeoutExpired as e:  # a hang: what it printed says where
        out = [x.decode() if isinstance(x, bytes) else x or "" for x in (e.stdout, e.stderr)]
        return None, "".join(out) + "(timed out)"
    m = re.search(r"^OK (\d+) (\d+) (\d+) (\d+) (\d+) 0$", r.stdout, re.M)
    figures = tuple(int(x) for x in m.groups()) if r.returncode == 0 and m else None
    return figures, r.stdout + r.stderr


def bisect(ok, lo: int = 4, hi: int = 256, confirm: int = 2) -> int | None:
    """Smallest KiB in (lo, hi] for which ok(kib) holds, confirmed `confirm` more times (moving
    up 1 KiB while a confirmation fails, at most 16: near the edge the outcome depends on
    fragmentation); None if ok(hi) fails. bench/fw_heap.py bisects with it too."""
    if not ok(hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    for _ in range(16):
        if all(ok(hi) for _ in range(confirm)):
            return hi
        hi += 1
    return None


def heap_map(text: str, bits: int) -> dict:
    """Bytes per block type in a mem_info(1) heap map ('=' tails count for their head)."""
    m = re.search(r"GC memory layout; from [0-9a-fx]+:\n(.*?)(?:\Z|^OK )", text, re.S | re.M)
    blocks: dict[str, int] = {}
    if not m:
        return blocks
    last = None
    for line in m.group(1).splitlines():
        if not re.match(r"^\s*[0-9a-f]{5,8}: ", line):
            continue
        for ch in line.split(": ", 1)[1]:
            if ch == "=":
                if last:
                    blocks[last] = blocks.get(last, 0) + 1
            elif ch == ".":
                last = None
            else:
                last = ch
                blocks[ch] = blocks.get(ch, 0) + 1
    width = 4 * bits // 8
    return {k: v * width for k, v in sorted(blocks.items(), key=lambda kv: -kv[1])}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, help="MicroPython tree or tarball")
    parser.add_argument("--bits", type=int, choices=(32, 64), default=64)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--map", action="store_true", help="print mem_info(1) (frozen)")
    parser.add_argument("--cache", type=Path, help="firmware cache (default: tools/firmware.py's)")
    parser.add_argument(
        "--probe", help="comma list of heap sizes in bytes: run each (frozen) and show the outcome"
    )
    args = parser.parse_args(argv)
    fwtool = load_firmware_tool()
    source = args.source or fwtool.find_source()
    if source is None:
        parser.error("name the MicroPython source: " + fwtool.SOURCE_HINT)
    fw = fwtool.build_firmware(source, args.bits, cache=args.cache)
    tmp = Path(tempfile.mkdtemp(prefix="client-heap-"))
    broker = None
    try:
        app_dir = tmp / "app"
        app_dir.mkdir()
        (app_dir / "app.py").write_text(APP)
        paths = {"frozen": ".frozen", "py": "%s:.frozen" % EXT}
        if "mpy" in args.kinds:
            out = tmp / "mpy" / "mqtt_as"
            out.mkdir(parents=True)
            for src in sorted((EXT / "mqtt_as").glob("*.py")):
                subprocess.run(
                    [str(fw.mpy_cross), "-o", str(out / (src.stem + ".mpy")), str(src)],
                    check=True,
                )
            paths["mpy"] = "%s:.frozen" % (tmp / "mpy")
        broker = Mosquitto(tmp)
        print("MicroPython %s, %d-bit: %s" % (fw.version, fw.bits, fw.micropython))
        if args.probe:  # where exactly it fails: the last lines each run printed
            for size in args.probe.split(","):
                figures, text = run(fw.micropython, ".frozen", app_dir, broker.port, size.strip())
                tail = " | ".join(text.strip().splitlines()[-3:])
                print("%s B: %s" % (size, "OK %s" % (figures,) if figures else tail[-300:]))
            return 0
        print("kind    heap KiB  alloc: bare  imported  made  connected  after 100")
        for kind in args.kinds.split(","):
            path = paths[kind]
            figures, _ = run(fw.micropython, path, app_dir, broker.port, None)
            kib = bisect(lambda k, p=path: run(fw.micropython, p, app_dir, broker.port, k)[0])
            if figures:
                print("%-7s %8s  %11d %9d %5d %10d %10d" % (kind, kib, *figures))
            else:
                print("%-7s %8s  (the app fails with the default heap)" % (kind, kib))
        if args.map:
            figures, text = run(fw.micropython, ".frozen", app_dir, broker.port, None, dump=True)
            print(text)
            for kind, size in heap_map(text, fw.bits).items():
                print("  block type %s: %d bytes" % (kind, size))
    finally:
        if broker is not None:
            broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
