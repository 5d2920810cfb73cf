# Benchmark worker for chumicro-mqtt (PyPI, 0.30.x), a non-blocking MQTT 3.1.1 client driven by
# ticks instead of asyncio. The same file runs under CPython and the MicroPython unix port, like
# client_mp_worker.py, with the same modes (qos0, qos1, rtt) and the same JSON-lines output.
#
#   python3 bench/client_chumicro_worker.py '{"mode": "qos1", "port": 1883, "n": 2000}'
#   MICROPYPATH=.frozen:<folder holding chumicro_*> micropython bench/client_chumicro_worker.py ..
#
# The tick loop is ours (chumicro's own runner is a separate package): each turn calls
# client.handle(now), then, unless what the caller waits for has happened, sleeps in poll() on the client's socket for the events it asks for
# (io_interest) until its next deadline (next_deadline), at most 100 ms. A caller waiting for an
# acknowledgement spins this loop, which is how an application on a board drives the client.
# chumicro's defaults stay as they are (256-byte receive buffer, 20-packet send queue, QoS 1
# re-sent after 5 s): the benchmark's messages fit in them. publish() raising
# MQTTBackpressureError (queue full) is answered by running the loop until there is room.
import json
import select
import sys
import time

from chumicro_mqtt import MQTTBackpressureError, MQTTClient
from chumicro_sockets.sockets_factory import fixed_connector_factory

try:
    from time import ticks_diff, ticks_ms, ticks_us
except ImportError:  # CPython

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_ms():
        return time.perf_counter_ns() // 1000000

    def ticks_diff(a, b):
        return a - b


from chumicro_timing import ticks as chu_ticks  # noqa: E402  # the clock the client compares

_IO_READ = 1
_IO_WRITE = 2


def emit(ev, **kw):
    kw["ev"] = ev
    print(json.dumps(kw))


def now_ns():
    return time.time_ns()


class Loop:
    """The tick loop: handle(), then poll the client's socket for what it wants, bounded."""

    def __init__(self, client):
        self.c = client
        self.poller = select.poll()
        self.sock = None  # the raw socket registered with the poller
        self.mask = 0

    def tick(self):
        c = self.c
        now = chu_ticks.ticks_ms()
        if c.check(now):
            c.handle(now)

    def wait(self):
        c = self.c
        now = chu_ticks.ticks_ms()
        io = c.io_socket  # changes while connecting, and after a reconnect
        sock = getattr(io, "sock", io)  # chumicro wraps the runtime's socket
        interest = c.io_interest(now) if sock is not None else 0
        mask = (select.POLLIN if interest & _IO_READ else 0) | (
            select.POLLOUT if interest & _IO_WRITE else 0
        )
        if sock is not self.sock:
            if self.sock is not None:
                self.poller.unregister(self.sock)
            if sock is not None:
                self.poller.register(sock, mask)
            self.sock, self.mask = sock, mask
        elif sock is not None and mask != self.mask:
            self.poller.modify(sock, mask)
            self.mask = mask
        due = c.next_deadline(now)
        wait = 100 if due is None else max(0, min(100, chu_ticks.ticks_diff(due, now)))
        if self.sock is None:
            time.sleep(wait / 1000)
        else:
            self.poller.poll(wait)

    def until(self, done, timeout_ms):
        # handle(), and sleep in poll() only while the awaited thing has not happened
        start = ticks_ms()
        while not done():
            self.tick()
            if done():
                break
            if ticks_diff(ticks_ms(), start) > timeout_ms:
                return False
            self.wait()
        return True

    def idle_tx(self):
        # nothing left to send: the socket has every byte
        return not self.c.io_interest(chu_ticks.ticks_ms()) & _IO_WRITE


def connect(p, client_id):
    # chumicro's own transport (chumicro_sockets): it adapts the socket to each runtime
    factory = fixed_connector_factory("127.0.0.1", p["port"])
    c = MQTTClient(transport_factory=factory, client_id=client_id, keep_alive_seconds=60)
    state = {"up": False}

    def on_connect(*args):
        state["up"] = True

    c.on_connect = on_connect
    c.connect()
    loop = Loop(c)
    if not loop.until(lambda: state["up"], 10000):
        raise OSError("no CONNACK in 10 s: %s" % (c.last_error,))
    return c, loop


def publish(c, loop, topic, payload, qos, on_publish=None):
    while True:
        try:
            c.publish(topic, payload, qos=qos, on_publish=on_publish)
            return
        except MQTTBackpressureError:  # the send queue is full: let the loop send
            loop.tick()
            if not loop.idle_tx():
                loop.wait()


def qos1_one(c, loop, topic, payload):
    acked = [False]

    def done(t, m):
        acked[0] = True

    publish(c, loop, topic, payload, 1, done)
    return loop.until(lambda: acked[0], 10000)


def main():
    p = json.loads(sys.argv[1])
    mode, n = p["mode"], p.get("n", 0)
    payload = b"x" * p.get("size", 64)
    c, loop = connect(p, p.get("client_id", "bench-chumicro"))
    if mode == "qos0":
        emit("ready")
        t0 = now_ns()
        u0 = ticks_us()
        for _ in range(n):
            publish(c, loop, p["topic"], payload, 0)
        loop.until(loop.idle_tx, 30000)  # "accepted": handed to the socket, as ours
        emit("result", t0=t0, t1=now_ns(), us=ticks_diff(ticks_us(), u0))
    elif mode == "qos1":
        for _ in range(20):
            qos1_one(c, loop, p["topic"], payload)
        fails = 0
        u0 = ticks_us()
        for _ in range(n):
            if not qos1_one(c, loop, p["topic"], payload):
                fails += 1
        emit("result", us=ticks_diff(ticks_us(), u0), fails=fails)
    elif mode == "rtt":
        got = [None]
        subscribed = [False]

        def on_message(topic, msg):
            got[0] = bytes(msg)

        def on_subscribe(topic, qos):
            subscribed[0] = True

        c.on_message = on_message
        c.subscribe(p.get("pong", "bench/pong"), 0, on_subscribe=on_subscribe)
        if not loop.until(lambda: subscribed[0], 10000):
            raise OSError("no SUBACK in 10 s")
        warm = p.get("warmup", 10)
        rtts, lost = [], 0
        for i in range(n + warm):
            want = b"%d" % i
            u0 = ticks_us()
            publish(c, loop, p.get("ping", "bench/ping"), want, 0)
            if not loop.until(lambda want=want: got[0] == want, 2000):
                lost += 1
                continue
            if i >= warm:
                rtts.append(ticks_diff(ticks_us(), u0))
        emit("result", rtts=rtts, lost=lost)
    else:
        raise ValueError("chumicro has no mode " + mode)
    c.disconnect()
    loop.until(loop.idle_tx, 2000)


try:
    main()
except Exception as e:  # one line the benchmark reads, as the other workers do
    emit("error", msg="%s: %s" % (type(e).__name__, e))
