"""Scenarios of the Wi-Fi link against a fake `network` module; runs on both runtimes.

Usage: wlan_app.py <broker port>. Prints one "ok <name>" line per scenario that behaved.
"""

import asyncio
import sys

sys.path.insert(0, sys.argv[0].rsplit("/", 1)[0] + "/fakes")  # the fake `network` module

from mqtt_as import MQTTClient, MQTTError
from mqtt_as.wlan import WLAN

PORT = int(sys.argv[1])


async def joins_then_connects():
    import network

    sta = network.WLAN(network.STA_IF)
    cfg = {"server": "127.0.0.1", "port": PORT, "ssid": "home", "wifi_pw": "pw"}
    cfg.update(ping_interval=1, response_time=1)  # the link is checked every 0.25 s
    c = MQTTClient(cfg)
    await c.connect()
    assert ("connect", "home", "pw") in sta.calls, sta.calls
    assert await c.publish("wlan/x", "1", qos=1)
    # the access point goes away: the link is declared down, rejoined, and the client is back
    sta.lose_ap(rejoin_after=3)
    for _ in range(200):
        if c.stats()["reconnects"] == 1:
            break
        await asyncio.sleep(0.05)
    assert c.stats()["reconnects"] == 1, c.stats()
    assert c.stats()["last_fault"] == "network link down", c.stats()
    assert await c.publish("wlan/x", "2", qos=1)
    c.close()
    print("ok joins_then_connects")


async def never_joins_is_a_clear_error():
    import network

    sta = network.WLAN(network.STA_IF)
    sta.joined = False
    sta.join_after = -1
    c = MQTTClient({"server": "127.0.0.1", "port": PORT, "link": WLAN("home", "pw", timeout=1)})
    try:
        await c.connect()
    except MQTTError as e:
        assert "could not join 'home'" in str(e), str(e)
        assert ("disconnect",) in sta.calls
        print("ok never_joins_is_a_clear_error")


def no_network_module_is_a_clear_error():
    sys.modules.pop("network", None)
    sys.path[:] = [p for p in sys.path if not p.endswith("fakes")]
    try:
        MQTTClient({"server": "127.0.0.1", "ssid": "home", "wifi_pw": "pw"})
    except ValueError as e:
        assert "no `network` module" in str(e)
        print("ok no_network_module_is_a_clear_error")


async def main():
    await joins_then_connects()
    await never_joins_is_a_clear_error()
    no_network_module_is_a_clear_error()


asyncio.run(main())
