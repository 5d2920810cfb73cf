# Smallest-heap probe for the unix port: connect, subscribe, publish 100 QoS 1 messages.
# Success is "OK ..." (no fault on the way). Deliberately tiny, so that the script's own
# compilation weighs little next to mqtt_as.
#   MICROPYPATH=.frozen:<dir holding mqtt_as> micropython -X heapsize=40k client_mp_ram.py PORT
import gc
import sys

gc.collect()
BARE = gc.mem_alloc()
import asyncio  # noqa: E402

from mqtt_as import MQTTClient  # noqa: E402


async def main(port):
    c = MQTTClient({"server": "127.0.0.1", "port": port, "client_id": "bench-ram"})
    await c.connect()
    gc.collect()
    conn = gc.mem_alloc()
    await c.subscribe("bench/ram/in", 1)
    for i in range(100):
        if not c.isconnected():
            break  # a fault (a MemoryError in the reader, say): not a success, stop early
        if not await c.publish("bench/ram/out", b"%d" % i, qos=1):
            raise OSError("publish %d failed" % i)
    faults = c.stats()["faults"]
    await c.disconnect()
    print("OK" if not faults else "FAULTS", BARE, conn, faults)


asyncio.run(asyncio.wait_for(main(int(sys.argv[1])), 6))
