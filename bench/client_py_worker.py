"""Benchmark worker for the reference clients (CPython only): raw socket, paho-mqtt, aiomqtt.

    python3 bench/client_py_worker.py '{"client": "paho", "mode": "qos1", "port": 1883, "n": 2000}'

Same modes and the same JSON-lines output as client_mp_worker.py, so the benchmark drives
every client the same way. raw supports qos0/qos1/rtt, aiomqtt qos0/qos1/rtt, paho all modes.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import sys
import threading
import time

LOOPBACK = "127.0.0.1"
# events emitted after each outage: the first ack may still belong to the old connection
AFTER_OUTAGE = 3


_OUT = threading.Lock()


def emit(ev: str, **kw) -> None:
    """One JSON line, written whole: paho's thread emits too."""
    kw["ev"] = ev
    line = json.dumps(kw) + "\n"
    with _OUT:
        sys.stdout.write(line)
        sys.stdout.flush()


def now_ns() -> int:
    return time.time_ns()


def us_since(t0: int) -> int:
    return (time.perf_counter_ns() - t0) // 1000


# --------------------------------------------------------------------------- raw socket


def _varlen(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + _varlen(len(body)) + body


def _str(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def raw_publish(topic: str, payload: bytes, qos: int = 0, pid: int = 0) -> bytes:
    body = _str(topic) + (struct.pack("!H", pid) if qos else b"") + payload
    return _packet(0x30 | qos << 1, body)


class Raw:
    """Pre-encoded packets written straight to a TCP_NODELAY socket: the ceiling."""

    def __init__(self, port: int, client_id: str) -> None:
        self.s = socket.create_connection((LOOPBACK, port), timeout=10)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        body = _str("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60) + _str(client_id)
        self.s.sendall(_packet(0x10, body))
        self.buf = b""
        first, _ = self.read_packet()
        if first != 0x20:
            raise OSError("no CONNACK")

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            data = self.s.recv(65536)
            if not data:
                raise EOFError("broker closed")
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_packet(self) -> tuple[int, bytes]:
        first = self.read_exact(1)[0]
        mult, length = 1, 0
        while True:
            b = self.read_exact(1)[0]
            length += (b & 0x7F) * mult
            mult <<= 7
            if not b & 0x80:
                break
        return first, self.read_exact(length)

    def subscribe(self, topic: str) -> None:
        self.s.sendall(_packet(0x82, struct.pack("!H", 1) + _str(topic) + b"\x00"))
        while self.read_packet()[0] != 0x90:
            pass

    def close(self) -> None:
        try:
            self.s.sendall(b"\xe0\x00")
        finally:
            self.s.close()


def raw_main(p: dict) -> None:
    mode, n = p["mode"], p.get("n", 0)
    r = Raw(p["port"], "bench-raw")
    payload = b"x" * p.get("size", 64)
    if mode == "qos0":
        pkts = [raw_publish(p["topic"], payload) for _ in range(n)]
        send = r.s.sendall
        emit("ready")
        t0 = now_ns()
        u0 = time.perf_counter_ns()
        for pkt in pkts:
            send(pkt)
        emit("result", t0=t0, t1=now_ns(), us=us_since(u0))
    elif mode == "qos1":
        pkts = [raw_publish(p["topic"], payload, 1, i % 65535 + 1) for i in range(n + 20)]
        for pkt in pkts[:20]:
            r.s.sendall(pkt)
            r.read_packet()
        u0 = time.perf_counter_ns()
        for pkt in pkts[20:]:
            r.s.sendall(pkt)
            if r.read_packet()[0] != 0x40:
                raise OSError("expected PUBACK")
        emit("result", us=us_since(u0), fails=0)
    elif mode == "rtt":
        r.subscribe(p.get("pong", "bench/pong"))
        warm = p.get("warmup", 10)
        pkts = [raw_publish(p.get("ping", "bench/ping"), b"%d" % i) for i in range(n + warm)]
        pong = p.get("pong", "bench/pong").encode()
        rtts = []
        r.s.settimeout(2)
        for i, pkt in enumerate(pkts):
            want = b"%d" % i
            u0 = time.perf_counter_ns()
            r.s.sendall(pkt)
            while True:
                first, body = r.read_packet()
                tl = struct.unpack("!H", body[:2])[0]
                if first & 0xF0 == 0x30 and body[2 : 2 + tl] == pong and body[2 + tl :] == want:
                    break
            if i >= warm:
                rtts.append(us_since(u0))
        emit("result", rtts=rtts, lost=0)
    else:
        raise ValueError(f"raw has no mode {mode}")
    r.close()


# --------------------------------------------------------------------------- paho


def paho_main(p: dict) -> None:
    import paho.mqtt.client as mqtt

    mode = p["mode"]
    clean = p.get("clean", True)
    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=p.get("client_id", "bench-paho"),
        clean_session=clean,
        protocol=mqtt.MQTTv311,
    )
    up = threading.Event()
    down = threading.Event()
    msg_ev = threading.Event()
    got: list = [None]
    state = {"want_probe": 0, "want_ack": 0, "downs": []}
    subs: list[str] = []

    def on_connect(client, userdata, flags, rc, props=None):
        # the paho idiom: (re-)subscribe in on_connect
        for t in subs:
            client.subscribe(t, 0)
        up.set()
        emit("up", t=now_ns())

    def on_disconnect(client, userdata, flags, rc, props=None):
        t = now_ns()
        state["downs"].append(t)
        state["want_probe"] = state["want_ack"] = AFTER_OUTAGE
        up.clear()
        down.set()
        emit("down", t=t, rc=str(rc))

    def on_message(client, userdata, msg):
        if msg.topic == p.get("probe"):
            if state["want_probe"] and up.is_set():
                state["want_probe"] -= 1
                emit("probe", t=now_ns())
            return
        got[0] = msg.payload
        msg_ev.set()

    # PUBACKs by message id: wait_for_publish() raises for a message published while offline,
    # although paho queues it and sends it after the reconnect; on_publish sees the real ack.
    acks_cond = threading.Condition()
    acked_mids: set[int] = set()

    def on_publish(client, userdata, mid, rc=None, props=None):
        with acks_cond:
            acked_mids.add(mid)
            acks_cond.notify_all()

    def wait_ack(mid: int, timeout: float) -> bool:
        with acks_cond:
            ok = acks_cond.wait_for(lambda: mid in acked_mids, timeout)
            acked_mids.discard(mid)
            return ok

    c.on_connect = on_connect
    c.on_disconnect = on_disconnect
    c.on_message = on_message
    c.on_publish = on_publish
    if mode in ("restart", "loss"):
        c.reconnect_delay_set(min_delay=1, max_delay=120)  # paho's defaults, said explicitly
    if mode == "rtt":
        subs.append(p.get("pong", "bench/pong"))
    if mode == "restart":
        subs.append(p["probe"])
    c.connect(LOOPBACK, p["port"], p.get("keepalive", 60))
    c.loop_start()
    if not up.wait(10):
        raise TimeoutError("no CONNACK")
    payload = b"x" * p.get("size", 64)
    n = p.get("n", 0)
    if mode == "qos0":
        emit("ready")
        t0 = now_ns()
        u0 = time.perf_counter_ns()
        info = None
        for _ in range(n):
            info = c.publish(p["topic"], payload, 0)
        us = us_since(u0)
        t1 = now_ns()
        if info is not None:
            info.wait_for_publish(30)
        emit("result", t0=t0, t1=t1, us=us)
    elif mode == "qos1":
        for _ in range(20):
            c.publish(p["topic"], payload, 1).wait_for_publish(5)
        u0 = time.perf_counter_ns()
        fails = 0
        for _ in range(n):
            info = c.publish(p["topic"], payload, 1)
            info.wait_for_publish(5)
            fails += not info.is_published()
        emit("result", us=us_since(u0), fails=fails)
    elif mode == "rtt":
        time.sleep(0.2)  # the SUBACK of the on_connect subscription
        ping = p.get("ping", "bench/ping")
        warm = p.get("warmup", 10)
        rtts, lost = [], 0
        for i in range(n + warm):
            want = b"%d" % i
            msg_ev.clear()
            u0 = time.perf_counter_ns()
            c.publish(ping, want, 0)
            deadline = time.monotonic() + 2
            ok = False
            while time.monotonic() < deadline:
                if msg_ev.wait(max(0.0, deadline - time.monotonic())):
                    msg_ev.clear()
                    if got[0] == want:
                        ok = True
                        break
            if not ok:
                lost += 1
            elif i >= warm:
                rtts.append(us_since(u0))
        emit("result", rtts=rtts, lost=lost)
    elif mode == "freeze":
        emit("ready", t=now_ns())
        down.wait(p.get("timeout", 60))
        c.loop_stop()
        emit("result", down=state["downs"][0] if state["downs"] else None)
        os._exit(0)  # no DISCONNECT into a frozen link
    elif mode == "restart":
        time.sleep(0.2)
        emit("ready", t=now_ns())
        t_end = time.time() + p["duration"]
        max_block = seq = acks = 0
        while time.time() < t_end and not os.path.exists(p["stop_file"]):
            seq += 1
            u0 = time.perf_counter_ns()
            ok = wait_ack(c.publish(p["topic"], b"%d" % seq, 1).mid, 30)
            block = us_since(u0)
            max_block = max(max_block, block)
            if ok:
                acks += 1
                if state["want_ack"]:
                    state["want_ack"] -= 1
                    emit("acked", t=now_ns(), block_us=block)
            time.sleep(p.get("period", 0.02))
        emit("result", max_block_us=max_block, sent=seq, acked=acks)
    elif mode == "loss":
        emit("ready", t=now_ns())
        t_end = time.time() + p["duration"]
        acked, failed, seq, max_block = [], 0, 0, 0
        while time.time() < t_end and not os.path.exists(p["stop_file"]):
            seq += 1
            u0 = time.perf_counter_ns()
            ok = wait_ack(c.publish(p["topic"], b"%d" % seq, 1).mid, 30)
            max_block = max(max_block, us_since(u0))
            if ok:
                acked.append(seq)
            else:
                failed += 1
            time.sleep(p.get("period", 0.01))
        emit(
            "result",
            sent=seq,
            acked=ranges(acked),
            n_acked=len(acked),
            failed=failed,
            max_block_us=max_block,
        )
    else:
        raise ValueError(f"paho has no mode {mode}")
    c.disconnect()
    c.loop_stop()


def ranges(seqs: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for s in seqs:
        if out and out[-1][1] == s - 1:
            out[-1][1] = s
        else:
            out.append([s, s])
    return out


# --------------------------------------------------------------------------- aiomqtt


async def aiomqtt_main(p: dict) -> None:
    import aiomqtt

    mode, n = p["mode"], p.get("n", 0)
    payload = b"x" * p.get("size", 64)
    async with aiomqtt.Client(LOOPBACK, p["port"], identifier="bench-aiomqtt") as c:
        if mode == "qos0":
            emit("ready")
            t0 = now_ns()
            u0 = time.perf_counter_ns()
            for _ in range(n):
                await c.publish(p["topic"], payload, qos=0)
            emit("result", t0=t0, t1=now_ns(), us=us_since(u0))
        elif mode == "qos1":
            for _ in range(20):
                await c.publish(p["topic"], payload, qos=1, timeout=5)
            u0 = time.perf_counter_ns()
            for _ in range(n):
                await c.publish(p["topic"], payload, qos=1, timeout=5)
            emit("result", us=us_since(u0), fails=0)
        elif mode == "rtt":
            await c.subscribe(p.get("pong", "bench/pong"))
            it = aiter(c.messages)
            warm = p.get("warmup", 10)
            rtts, lost = [], 0
            for i in range(n + warm):
                want = b"%d" % i
                u0 = time.perf_counter_ns()
                await c.publish(p.get("ping", "bench/ping"), want)
                try:
                    while (await asyncio.wait_for(anext(it), 2)).payload != want:
                        pass
                except TimeoutError:
                    lost += 1
                    continue
                if i >= warm:
                    rtts.append(us_since(u0))
            emit("result", rtts=rtts, lost=lost)
        else:
            raise ValueError(f"aiomqtt has no mode {mode}")


def main() -> None:
    p = json.loads(sys.argv[1])
    kind = p["client"]
    # every worker has a hard limit: a hang becomes an error event, not a stuck benchmark
    timer = threading.Timer(
        p.get("limit", 120), lambda: (emit("error", msg="time limit"), os._exit(3))
    )
    timer.daemon = True
    timer.start()
    try:
        if kind == "raw":
            raw_main(p)
        elif kind == "paho":
            paho_main(p)
        elif kind == "aiomqtt":
            asyncio.run(aiomqtt_main(p))
        else:
            raise ValueError(f"unknown client {kind}")
    except Exception as e:
        emit("error", msg=f"{type(e).__name__}: {e}")
    timer.cancel()


if __name__ == "__main__":
    main()
