"""Removing a component removes its entity: in-process on CPython, the real MQTT handle and
Discovery publisher against a real mosquitto, watched by a paho client."""

from __future__ import annotations

import asyncio
import json


def test_removing_a_component_sends_its_platform_alone_then_omits_it(
    clean_node, mosquitto, observer
):
    from pysmartnode import config
    from pysmartnode.networking.mqtt import MQTTHandle
    from pysmartnode.utils import registry
    from pysmartnode.utils.component import discovery

    obs = observer(mosquitto)
    topic = "homeassistant/device/rmnode/config"
    obs.subscribe(topic)
    components = {
        "pump": {"package": "testparts", "component": "Relay"},
        "fan": {"package": "testparts", "component": "Relay"},
    }

    async def scenario():
        handle = MQTTHandle("rmnode", "home", "available", "homeassistant",
                            server=mosquitto.host, port=mosquitto.port)  # fmt: skip
        clean_node.mqtt = handle
        clean_node.discovery = discovery.start(handle, config, "rmnode", "7.0.0", "cpython")
        await registry.build(components)
        await handle.connect()
        await asyncio.wait_for(clean_node.discovery.wait(), 10)
        await registry.remove("pump")
        await asyncio.sleep(0.2)
        for component in list(clean_node.components.values()):
            component.stop()
        await handle.stop()

    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "parts"))
    try:
        asyncio.run(scenario())
    finally:
        sys.path.remove(str(Path(__file__).parent / "parts"))
    first, removing, after = (json.loads(m.payload) for m in obs.wait_messages(topic, 3))
    assert {"pump", "fan"} <= set(first["cmps"])
    assert removing["cmps"]["pump"] == {"p": "switch"}
    assert "fan" in removing["cmps"] and "pump" not in after["cmps"]
