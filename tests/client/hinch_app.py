"""A small application written exactly as Peter Hinch's mqtt_as README shows, in its two styles.

Usage: hinch_app.py <port> callbacks|events. Only the import differs from an mqtt_as program
(and the publish period, 5 s there, 0.5 s here). Runs under CPython and MicroPython.
"""

import asyncio
import sys

from mqtt_as import MQTTClient, config

# Local configuration
config["server"] = "127.0.0.1"
config["port"] = int(sys.argv[1])
STYLE = sys.argv[2]


# ---------------------------------------------------------------- the callback interface


def callback(topic, msg, retained):
    print((topic, msg, retained))


async def conn_han(client):
    await client.subscribe("foo_topic", 1)


async def wifi_han(state):
    print("Wifi is ", "up" if state else "down")
    await asyncio.sleep(1)


async def main(client):
    await client.connect()
    n = 0
    while True:
        await asyncio.sleep(0.5)
        print("publish", n)
        # If WiFi is down the following will pause for the duration.
        await client.publish("result", "{}".format(n), qos=1)
        n += 1


# ---------------------------------------------------------------- the event interface


async def messages(client):
    async for topic, msg, retained in client.queue:
        print((topic, msg, retained))


async def down(client):
    while True:
        await client.down.wait()
        client.down.clear()
        print("WiFi or broker is down.")


async def up(client):
    while True:
        await client.up.wait()
        client.up.clear()
        print("We are connected to broker.")
        await client.subscribe("foo_topic", 1)


async def main_events(client):
    try:
        await client.connect()
    except OSError:
        print("Connection failed.")
        return
    for task in (up, down, messages):
        asyncio.create_task(task(client))
    n = 0
    while True:
        await asyncio.sleep(0.5)
        print("publish", n)
        await client.publish("result", "{}".format(n), qos=1)
        n += 1


if STYLE == "callbacks":
    config["subs_cb"] = callback
    config["connect_coro"] = conn_han
    config["wifi_coro"] = wifi_han
else:
    config["queue_len"] = 1  # Use event interface with default queue size

MQTTClient.DEBUG = True  # Optional: print diagnostic messages
client = MQTTClient(config)
try:
    asyncio.run(main(client) if STYLE == "callbacks" else main_events(client))
finally:
    client.close()  # Prevent LmacRxBlk:1 errors
