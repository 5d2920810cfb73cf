"""The client frozen into tools/firmware.py's unix-port firmware: its rarely run code (conn.py,
options.py, subs.py) is loaded for each use and dropped, so a connected client keeps none of it, and it
still connects, reconnects, disconnects and connects again; its instance keeps 29 attributes at
most, its package 11 names."""

from __future__ import annotations

import subprocess

import pytest
from harness.runtimes import tool_modules

APP = """\
import asyncio
import sys

import mqtt_as
from mqtt_as import MQTTClient

RARE = ("mqtt_as.conn", "mqtt_as.options", "mqtt_as.subs")


def held(where):  # the rarely run modules this process still holds, by name
    names = [m for m in RARE if m in sys.modules or m[8:] in mqtt_as.__dict__]
    print(where, "held", ",".join(names) or "none")


async def main(port):
    c = MQTTClient({"server": "127.0.0.1", "port": port, "client_id": "frozen-probe",
                    "keepalive": 4, "ping_interval": 1, "response_time": 1})
    held("made")
    await c.connect()
    held("connected")
    assert await c.publish("frozen/probe", b"1", qos=1)
    c._writer.s.close()  # the link dies under the client: the supervisor reconnects
    for _ in range(100):
        await asyncio.sleep(0.05)
        if c.stats()["reconnects"]:
            break
    assert await c.publish("frozen/probe", b"2", qos=1)
    held("reconnected")
    await c.subscribe("frozen/in", 1)
    held("subscribed")
    print("attributes", len(c.__dict__))  # connected, subscribed, after an outage
    print("broker_up", await c.broker_up())
    await c.disconnect()
    await c.connect()
    held("connected again")
    await c.disconnect()
    print("package names", len(mqtt_as.__dict__))
    for name in RARE:  # loaded once more, as a use loads it
        print(name, "names", len(__import__(name, None, None, ("_",)).__dict__))
    print("stats", c.stats()["connects"], c.stats()["reconnects"], mqtt_as.config["port"])


asyncio.run(main(int(sys.argv[1])))
"""


@pytest.fixture(scope="module")
def firmware():
    return tool_modules().require_firmware()


def test_frozen_client_keeps_no_connect_code_and_still_reconnects(firmware, mosquitto, tmp_path):
    (tmp_path / "app.py").write_text(APP)
    r = subprocess.run(
        [str(firmware.micropython), "app.py", str(mosquitto.port)],
        cwd=tmp_path, env={"MICROPYPATH": ".frozen"}, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    for where in ("made", "connected", "reconnected", "subscribed", "connected again"):
        assert "%s held none" % where in out, out
    assert "broker_up True" in out and "stats 3 2 0" in out, out
    # The instance's attributes share one table: up to 29 take 29 slots (480 bytes, 64-bit), the
    # 30th grows it to 37 (608); options.py keeps them few
    attributes = int(out.split("attributes ")[1].split()[0])
    assert attributes <= 29, out
    # The package's dict, alike: 12 slots (192 bytes) hold up to 12 names (its own, and a rarely
    # run module while it is loaded), the 13th grows it to 17 (288)
    assert int(out.split("package names ")[1].split()[0]) <= 11, out
    # conn.py's own dict, made again at each use (the first connect, near the edge): 12 slots
    # (192 bytes) hold its 12 names, the 13th grows it to 17 (272)
    assert int(out.split("mqtt_as.conn names ")[1].split()[0]) <= 12, out
