# Benchmark worker for our client (mqtt_as). The same file runs under CPython and under the
# MicroPython unix port, so both runtimes run identical code. Kept to what the unix port has:
# no f-strings, no typing, no dataclasses.
#
#   python3 bench/client_mp_worker.py '{"mode": "qos1", "port": 1883, "n": 2000}'
#   MICROPYPATH=.frozen:external_modules micropython bench/client_mp_worker.py '{...}'
#
# Prints one JSON object per line, each with "ev"; the benchmark reads them (common.Worker).
import asyncio
import json
import sys
import time

from mqtt_as import MQTTClient

try:
    from time import ticks_diff, ticks_ms, ticks_us
except ImportError:  # CPython

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_ms():
        return time.perf_counter_ns() // 1000000

    def ticks_diff(a, b):
        return a - b


# events emitted after each outage: the first ack may still belong to the old connection
AFTER_OUTAGE = 3


def emit(ev, **kw):
    kw["ev"] = ev
    print(json.dumps(kw))


def now_ns():
    return time.time_ns()


class Bench:
    def __init__(self, p):
        self.p = p
        self.got = None  # last message received: (topic, msg)
        self.msg_ev = asyncio.Event()
        self.downs = []  # time_ns of every outage the client reported
        self.ups = []
        self.client = None
        self.on_outage = None  # extra hook, called with False/True like wifi_coro

    def on_msg(self, topic, msg, retained):
        self.got = (topic, msg)
        self.msg_ev.set()

    def on_wifi(self, state):
        (self.ups if state else self.downs).append(now_ns())
        emit("up" if state else "down", t=now_ns())
        if self.on_outage is not None:
            self.on_outage(state)

    def make(self, **over):
        p = self.p
        cfg = {
            "server": "127.0.0.1",
            "port": p["port"],
            "client_id": p.get("client_id", "bench-ours"),
            "keepalive": p.get("keepalive", 60),
            "ping_interval": p.get("ping_interval", 0),
            "response_time": p.get("response_time", 10),
            "subs_cb": self.on_msg,
            "wifi_coro": self.on_wifi,
            "log": self.log,
        }
        cfg.update(over)
        self.client = MQTTClient(cfg)
        return self.client

    def log(self, level, msg):
        if level in ("warning", "error") or self.p.get("verbose"):
            print("log %s: %s" % (level, msg))

    # ------------------------------------------------------------------ modes

    async def qos0(self):
        p = self.p
        c = self.make()
        await c.connect()
        topic = p["topic"]
        payload = b"x" * p.get("size", 64)
        emit("ready")
        t0 = now_ns()
        u0 = ticks_us()
        for _ in range(p["n"]):
            await c.publish(topic, payload)
        us = ticks_diff(ticks_us(), u0)
        emit("result", t0=t0, t1=now_ns(), us=us)
        await c.disconnect()

    async def qos1(self):
        p = self.p
        c = self.make()
        await c.connect()
        topic = p["topic"]
        payload = b"x" * p.get("size", 64)
        fails = 0
        for _ in range(20):  # warm-up: first-use allocations out of the figure
            await c.publish(topic, payload, qos=1)
        u0 = ticks_us()
        for _ in range(p["n"]):
            if not await c.publish(topic, payload, qos=1):
                fails += 1
        us = ticks_diff(ticks_us(), u0)
        emit("result", us=us, fails=fails)
        await c.disconnect()

    async def rtt(self):
        # The deadline of each wait (2 s) is checked by one watchdog task for the whole run, as
        # chumicro's tick loop checks its deadline when it wakes: a timer (CPython's
        # asyncio.timeout) or a task (MicroPython's wait_for) per message would be measured too
        p = self.p
        c = self.make()
        await c.connect()
        await c.subscribe(p.get("pong", "bench/pong"))
        ping = p.get("ping", "bench/ping")
        rtts = []
        lost = 0
        state = {"since": None, "late": False}  # since: ms the current wait began, or None
        dog = asyncio.create_task(self.watchdog(state, 2000))
        for i in range(p["n"] + p.get("warmup", 10)):
            want = b"%d" % i
            self.msg_ev.clear()
            self.got = None
            state["since"] = ticks_ms()
            u0 = ticks_us()
            await c.publish(ping, want)
            while True:
                await self.msg_ev.wait()
                self.msg_ev.clear()
                if state["late"] or (self.got is not None and self.got[1] == want):
                    break
            state["since"] = None
            if state["late"]:
                state["late"] = False
                lost += 1
                continue
            if i >= p.get("warmup", 10):
                rtts.append(ticks_diff(ticks_us(), u0))
        dog.cancel()
        emit("result", rtts=rtts, lost=lost)
        await c.disconnect()

    async def watchdog(self, state, ms):
        # Wakes the waiting loop (as lost) once a wait has lasted `ms`, checking every 100 ms
        while True:
            await asyncio.sleep(0.1)
            since = state["since"]
            if since is not None and ticks_diff(ticks_ms(), since) >= ms:
                state["late"] = True
                self.msg_ev.set()

    async def freeze(self):
        p = self.p
        c = self.make()
        await c.connect()
        emit("ready", t=now_ns())
        t_end = time.time() + p.get("timeout", 60)
        while not self.downs and time.time() < t_end:
            await asyncio.sleep(0.005)
        c.close()
        emit("result", down=self.downs[0] if self.downs else None)

    async def restart(self):
        # A probe subscription (re-subscribed by the client) and a paced QoS 1 stream. Prints
        # the first probe and the first PUBACK after every outage, and the longest publish call.
        p = self.p
        c = self.make(response_time=p.get("response_time", 5))
        probes = []
        state = {"want_probe": 0, "want_ack": 0}

        def on_probe(topic, msg, retained):
            if state["want_probe"]:
                state["want_probe"] -= 1
                probes.append(now_ns())
                emit("probe", t=probes[-1])

        def on_outage(up):
            if not up:
                state["want_probe"] = state["want_ack"] = AFTER_OUTAGE

        self.on_outage = on_outage
        await c.connect()
        await c.subscribe(p["probe"], 0, on_probe)
        emit("ready", t=now_ns())
        t_end = time.time() + p["duration"]
        max_block = 0
        seq = 0
        acks = 0
        while time.time() < t_end and not exists(p["stop_file"]):
            seq += 1
            u0 = ticks_us()
            try:
                ok = await asyncio.wait_for(c.publish(p["topic"], b"%d" % seq, qos=1), 30)
            except asyncio.TimeoutError:
                ok = False
            block = ticks_diff(ticks_us(), u0)
            max_block = max(max_block, block)
            if ok:
                acks += 1
                if state["want_ack"]:
                    state["want_ack"] -= 1
                    emit("acked", t=now_ns(), block_us=block)
            await asyncio.sleep(p.get("period", 0.02))
        emit("result", max_block_us=max_block, sent=seq, acked=acks, stats=c.stats())
        c.close()

    async def loss(self):
        # A numbered QoS 1 stream, one publish every `period` s, each awaited (the caller
        # blocks while the link is down), until the stop file appears or the time is up.
        p = self.p
        c = self.make(response_time=p.get("response_time", 5))
        await c.connect()
        emit("ready", t=now_ns())
        t_end = time.time() + p["duration"]
        stop = p["stop_file"]
        acked = []
        failed = 0
        seq = 0
        max_block = 0
        while time.time() < t_end and not exists(stop):
            seq += 1
            u0 = ticks_us()
            try:
                ok = await asyncio.wait_for(c.publish(p["topic"], b"%d" % seq, qos=1), 30)
            except asyncio.TimeoutError:
                ok = False
            max_block = max(max_block, ticks_diff(ticks_us(), u0))
            if ok:
                acked.append(seq)
            else:
                failed += 1
            await asyncio.sleep(p.get("period", 0.01))
        emit(
            "result",
            sent=seq,
            acked=ranges(acked),
            n_acked=len(acked),
            failed=failed,
            max_block_us=max_block,
            stats=c.stats(),
        )
        await c.disconnect()


def exists(path):
    try:
        open(path).close()
        return True
    except OSError:
        return False


def ranges(seqs):
    """[1,2,3,5] -> [[1,3],[5,5]]: compact list of acked sequence numbers."""
    out = []
    for s in seqs:
        if out and out[-1][1] == s - 1:
            out[-1][1] = s
        else:
            out.append([s, s])
    return out


async def main(p):
    b = Bench(p)
    try:
        await asyncio.wait_for(getattr(b, p["mode"])(), p.get("limit", 120))
    except Exception as e:  # reported to the benchmark as an event, never a hang
        emit("error", msg="%s: %s" % (type(e).__name__, e))
        if b.client is not None:
            b.client.close()


asyncio.run(main(json.loads(sys.argv[1])))
