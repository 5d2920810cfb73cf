# Smallest-heap probe for chumicro-mqtt on the unix port, the same job as client_mp_ram.py:
# connect, subscribe, publish 100 QoS 1 messages (each acknowledged). Success is "OK ...".
#   MICROPYPATH=.frozen:<folder holding chumicro_*> micropython -X heapsize=40k client_chumicro_ram.py PORT
import gc
import sys

gc.collect()
BARE = gc.mem_alloc()
import select  # noqa: E402

from chumicro_mqtt import MQTTClient  # noqa: E402
from chumicro_sockets.sockets_factory import fixed_connector_factory  # noqa: E402
from chumicro_timing import ticks  # noqa: E402


def run(c, done, limit_ms):
    # handle(), then poll the client's socket until it has something to do (bounded)
    poller = select.poll()
    start = ticks.ticks_ms()
    while not done():
        now = ticks.ticks_ms()
        if c.check(now):
            c.handle(now)
        if done():
            return True
        if ticks.ticks_diff(ticks.ticks_ms(), start) > limit_ms:
            return False
        io = c.io_socket
        sock = getattr(io, "sock", io)
        if sock is None:
            continue
        poller.register(sock, select.POLLIN | (select.POLLOUT if c.io_interest(now) & 2 else 0))
        poller.poll(50)
        poller.unregister(sock)
    return True


def main(port):
    c = MQTTClient(
        transport_factory=fixed_connector_factory("127.0.0.1", port), client_id="bench-chu-ram"
    )
    flags = {"up": False, "sub": False, "acked": 0}
    c.on_connect = lambda *a: flags.__setitem__("up", True)
    c.connect()
    if not run(c, lambda: flags["up"], 5000):
        raise OSError("no CONNACK")
    gc.collect()
    conn = gc.mem_alloc()
    c.subscribe("bench/ram/in", 1, on_subscribe=lambda *a: flags.__setitem__("sub", True))
    if not run(c, lambda: flags["sub"], 5000):
        raise OSError("no SUBACK")
    for i in range(100):
        want = flags["acked"] + 1
        c.publish(
            "bench/ram/out",
            b"%d" % i,
            qos=1,
            on_publish=lambda *a: flags.__setitem__("acked", flags["acked"] + 1),
        )
        if not run(c, lambda want=want: flags["acked"] >= want, 5000):
            raise OSError("publish %d not acknowledged" % i)
    c.disconnect()
    print("OK", BARE, conn, 0)


main(int(sys.argv[1]))
