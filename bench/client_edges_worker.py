# Worker for client_edges.py: our client (mqtt_as) at the edges, the same file under CPython and
# the MicroPython unix port. Modes:
#   fds       connect; print the open file descriptors after every (re)connect; the driver
#             forces the reconnects (it takes the client id over). After n reconnects,
#             disconnect and print them again, with the count from before the first connect.
#   will      connect with a will, then close() (no DISCONNECT); prints the time of close().
#   retained  optionally fill the heap until `free` bytes are left (ballast), subscribe to a
#             retained message and report its length (or the fault), and the heap in use.
# One JSON line per event, as the other workers.
import asyncio
import gc
import json
import os
import sys
import time

from mqtt_as import MQTTClient


def emit(ev, **kw):
    kw["ev"] = ev
    print(json.dumps(kw))


def fds():
    return len(os.listdir("/proc/self/fd"))


async def mode_fds(p):
    c = MQTTClient({"server": "127.0.0.1", "port": p["port"], "client_id": p["client_id"]})
    gc.collect()
    before = fds()  # no connection yet: compared with the count after disconnect
    await c.connect()
    gc.collect()
    emit("up", n=0, fds=fds())
    first = seen = c.stats()["connects"]
    deadline = time.time() + p.get("limit", 120)
    while seen - first < p["n"] and time.time() < deadline:
        await asyncio.sleep(0.01)
        connects = c.stats()["connects"]
        if connects > seen and c.isconnected():
            seen = connects
            gc.collect()
            emit("up", n=seen - first, fds=fds())
    await c.disconnect()
    gc.collect()
    await asyncio.sleep(0.1)  # a close the runtime defers to the next turns of the loop
    gc.collect()
    emit("result", reconnects=c.stats()["reconnects"], before=before, fds=fds())


async def mode_will(p):
    c = MQTTClient(
        {
            "server": "127.0.0.1",
            "port": p["port"],
            "client_id": p["client_id"],
            "will": (p["topic"], "gone", False, 0),
        }
    )
    await c.connect()
    emit("ready")
    await asyncio.sleep(0.3)
    t = time.time_ns()
    c.close()
    emit("result", t_close=t)
    await asyncio.sleep(p.get("linger", 3))  # alive: a will now comes from close(), not from exit


async def mode_retained(p):
    got = []

    def on_msg(topic, msg, retained):
        got.append(len(msg))

    c = MQTTClient(
        {"server": "127.0.0.1", "port": p["port"], "client_id": p["client_id"], "subs_cb": on_msg}
    )
    await c.connect()
    gc.collect()
    ballast = None
    spare = gc.mem_free() - p["free"]
    if p["free"] and spare > 0:
        ballast = bytearray(spare)  # what the rest of an application would hold
    gc.collect()
    free, alloc = gc.mem_free(), gc.mem_alloc()
    try:
        await c.subscribe(p["topic"], 1)
        for _ in range(100):
            if got or c.stats()["faults"]:
                break
            await asyncio.sleep(0.05)
    except MemoryError:
        emit("result", free=free, got=None, error="MemoryError")
        return
    got = got[0] if got else None
    emit("result", free=free, alloc=alloc, got=got, faults=c.stats()["faults"])
    del ballast
    c.close()


def main():
    p = json.loads(sys.argv[1])
    modes = {"fds": mode_fds, "will": mode_will, "retained": mode_retained}
    try:
        asyncio.run(modes[p["mode"]](p))
    except Exception as e:
        emit("error", msg="%s: %s" % (type(e).__name__, e))
    except MemoryError:
        emit("error", msg="MemoryError")


main()
