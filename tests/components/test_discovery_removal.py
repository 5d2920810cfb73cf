"""Removing a component removes its entity: in-process on CPython, the real MQTT handle and
Discovery publisher against a real mosquitto, watched by a paho client."""

from __future__ import annotations

import asyncio
import json

import pytest


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


def _restart_without_the_bell(runtime, mosquitto, observer, component_node, **options):
    # A node announced a relay and a bell, then starts again (same id) with the relay only
    obs = observer(mosquitto)
    obs.subscribe("homeassistant/#")
    part = {"package": "testparts"}
    both = {"relay": part | {"component": "Relay"}, "bell": part | {"component": "Bell"}}
    proc, device_id, folder = component_node(runtime, mosquitto, both, **options)
    obs.wait_message(f"homeassistant/+/{device_id}/#", lambda m: b"bell" in m.payload, timeout=15)
    proc.stop()
    mark = obs.mark()
    component_node(runtime, mosquitto, {"relay": both["relay"]}, folder=folder,
                   device_id=device_id, **options)  # fmt: skip
    return obs, device_id, mark


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_per_entity_discovery_clears_a_component_dropped_across_a_restart(
    runtime, mosquitto, observer, component_node
):
    obs, device_id, mark = _restart_without_the_bell(
        runtime, mosquitto, observer, component_node, MQTT_DISCOVERY_PER_ENTITY=True
    )
    obs.wait_message(f"homeassistant/switch/{device_id}/relay/config", after=mark, timeout=15)
    bell = f"homeassistant/button/{device_id}/bell/config"
    obs.wait_message(bell, b"", after=mark, timeout=10)  # live: not flagged retained
    # what this run still has is left alone: a fresh subscriber gets the relay, not the bell
    fresh = observer(mosquitto)
    fresh.subscribe(f"homeassistant/+/{device_id}/+/config")
    relay = fresh.wait_message(f"homeassistant/switch/{device_id}/relay/config", timeout=10)
    assert relay.retain and json.loads(relay.payload)
    assert not [m for m in fresh.messages if m.topic == bell and m.payload]
