# A stand-in for a node on the server's side of the protocol (docs/smartserver.md): paho, will
# `offline`, `online` on connect, a status report, a login request; prints each message the
# server sends it. SIGKILL lets the will fire; SIGTERM stops cleanly as a node does (logs
# "stopping", publishes offline). Usage: fake_node.py PORT HOME ID [USER PASSWORD]
import json
import signal
import sys
import threading

import paho.mqtt.client as paho

port, home, device = int(sys.argv[1]), sys.argv[2], sys.argv[3]
base = f"{home}/{device}"
client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=device, protocol=paho.MQTTv311)
if len(sys.argv) > 5:
    client.username_pw_set(sys.argv[4], sys.argv[5])
client.will_set(f"{base}/available", "offline", qos=1, retain=True)
done = threading.Event()


def on_connect(c, userdata, flags, reason, props):
    c.subscribe(f"{home}/login/{device}", qos=1)
    c.publish(f"{base}/available", "online", qos=1, retain=True)
    status = {
        "version": "7.0.0.dev0",
        "platform": "unix",
        "id": device,
        "uptime": 3725,
        "ram_free": 41200,
        "reconnects": 0,
        "ip": "10.0.0.7",
    }
    c.publish(f"{base}/status", json.dumps(status), qos=1)
    c.publish(f"{home}/log/warn/{device}", "[node] last reset: watchdog", qos=1)
    req = {"version": "7.0.0.dev0", "platform": "unix", "counter": 0, "hash": None}
    c.publish(f"{home}/login/{device}/set", json.dumps(req), qos=1)
    print("connected", flush=True)


def on_message(c, userdata, msg):
    print("got", msg.topic, msg.payload.hex(), flush=True)


def stop(*_):
    client.publish(f"{home}/log/info/{device}", "[node] stopping", qos=1).wait_for_publish(2)
    client.publish(f"{base}/available", "offline", qos=1, retain=True).wait_for_publish(2)
    client.disconnect()
    done.set()


client.on_connect = on_connect
client.on_message = on_message
signal.signal(signal.SIGTERM, stop)
client.connect("127.0.0.1", port, keepalive=30)
client.loop_start()
done.wait()
client.loop_stop()
print("stopped", flush=True)
