"""Discovery short of heap, in-process on CPython against a real mosquitto: the publication's
code is loaded for each publication (discovery.py's _load), and a load that finds no heap is a
publication that failed: tried again, the states still asked for (docs/components.md, "Short of
heap")."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

PARTS = str(Path(__file__).parent / "parts")


def test_a_publication_whose_code_finds_no_heap_is_tried_again_and_the_states_go_out(
    clean_node, mosquitto, observer, monkeypatch, capsys
):
    from pysmartnode import config
    from pysmartnode.networking.mqtt import MQTTHandle
    from pysmartnode.utils import registry
    from pysmartnode.utils.component import discovery

    loads = []
    load = discovery._load

    def starved(name):  # the first load of the publication's code finds no heap
        loads.append(name)
        if name == "ha_publish" and loads.count(name) == 1:
            raise MemoryError("memory allocation failed (on purpose)")
        return load(name)

    monkeypatch.setattr(discovery, "_load", starved)
    obs = observer(mosquitto)
    topic = "homeassistant/device/starved/config"
    obs.subscribe(topic)

    async def scenario():
        handle = MQTTHandle("starved", "home", "available", "homeassistant",
                            server=mosquitto.host, port=mosquitto.port)  # fmt: skip
        clean_node.mqtt = handle
        clean_node.discovery = discovery.start(handle, config, "starved", "7.0.0", "cpython")
        await registry.build({"pump": {"package": "testparts", "component": "Relay"}})
        pump = clean_node.components["pump"]
        asked = []
        publish_state = pump._publish_state

        async def recorded():
            asked.append(clean_node.discovery.ready())
            await publish_state()

        pump._publish_state = recorded
        await handle.connect()
        await asyncio.wait_for(clean_node.discovery.wait(), 10)
        await asyncio.sleep(0.1)  # the state pass runs after the gate opens
        assert asked == [True]  # the state pass ran although the publication did not
        for _ in range(50):  # tried again 0.1 s after the failure
            if clean_node.discovery.publications:
                break
            await asyncio.sleep(0.1)
        pump.stop()
        await handle.stop()

    sys.path.insert(0, PARTS)  # testparts
    try:
        asyncio.run(scenario())
    finally:
        sys.path.remove(PARTS)
    assert "discovery not published: MemoryError" in capsys.readouterr().out
    (sent,) = obs.wait_messages(topic, 1, timeout=10)
    assert "pump" in json.loads(sent.payload)["cmps"]
    assert loads.count("ha_publish") == 2


def test_what_a_publication_changes_or_drops_is_logged_once(clean_node, mosquitto, capsys):
    # ha_publish logs what the sizing of the payload recorded (a send records nothing again)
    from pysmartnode import config
    from pysmartnode.networking.mqtt import MQTTHandle
    from pysmartnode.utils.component import discovery

    class Odd:  # a unit its device class does not take, and an id that is not one
        discover = True
        name = "odd"

        def discovery_entities(self):
            return [("odd_a", "sensor", {"dev_cla": "temperature", "unit_of_meas": "m"}),
                    ("odd b", "sensor", {"name": "B"})]  # fmt: skip

    async def scenario():
        handle = MQTTHandle("problems", "home", "available", "homeassistant",
                            server=mosquitto.host, port=mosquitto.port)  # fmt: skip
        clean_node.mqtt = handle
        clean_node.components["odd"] = Odd()
        clean_node.discovery = discovery.start(handle, config, "problems", "7.0.0", "cpython")
        await handle.connect()
        await asyncio.wait_for(clean_node.discovery.wait(), 10)
        assert clean_node.discovery.publications == 1
        await handle.stop()

    asyncio.run(scenario())
    out = capsys.readouterr().out
    assert out.count("odd_a: unit 'm' is not valid for device class temperature") == 1, out
    assert out.count("odd b: object id may only use [a-zA-Z0-9_-]") == 1, out
