"""Removing a component removes its entity: in-process on CPython, the real MQTT handle and
Discovery publisher against a real mosquitto, watched by a paho client."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

PARTS = str(Path(__file__).parent / "parts")
PUMP_AND_FAN = {
    "pump": {"package": "testparts", "component": "Relay"},
    "fan": {"package": "testparts", "component": "Relay"},
}


async def _connected(node, broker, device_id):
    """The real MQTT handle and Discovery of a node `device_id` with a pump and a fan, built
    and connected through `broker`, its discovery out; returns the handle."""
    from pysmartnode import config
    from pysmartnode.networking.mqtt import MQTTHandle
    from pysmartnode.utils import registry
    from pysmartnode.utils.component import discovery

    handle = MQTTHandle(device_id, "home", "available", "homeassistant",
                        server=broker.host, port=broker.port)  # fmt: skip
    node.mqtt = handle
    node.discovery = discovery.start(handle, config, device_id, "7.0.0", "cpython")
    await registry.build(PUMP_AND_FAN)
    await handle.connect()
    await asyncio.wait_for(node.discovery.wait(), 10)
    return handle


async def _stop(node, handle):
    for component in list(node.components.values()):
        component.stop()
    await handle.stop()


def _run(scenario):
    sys.path.insert(0, PARTS)  # testparts
    try:
        asyncio.run(scenario())
    finally:
        sys.path.remove(PARTS)


def test_removing_a_component_sends_its_platform_alone_then_omits_it(
    clean_node, mosquitto, observer
):
    from pysmartnode.utils import registry

    obs = observer(mosquitto)
    topic = "homeassistant/device/rmnode/config"
    obs.subscribe(topic)

    async def scenario():
        handle = await _connected(clean_node, mosquitto, "rmnode")
        await registry.remove("pump")
        await asyncio.sleep(0.2)
        await _stop(clean_node, handle)

    _run(scenario)
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


@pytest.mark.parametrize("per_entity", [False, True], ids=["device", "per-entity"])
def test_a_removal_made_while_a_publication_waits_for_its_ack_goes_out_in_the_next(
    clean_node, mosquitto, observer, fault_proxy, monkeypatch, per_entity
):
    # A config pushed while a discovery publication waited for the broker's PUBACK (CI, once):
    # that publication found the removal on its return, took it for its own and dropped it,
    # so Home Assistant was never told the entity went away
    from pysmartnode import config

    monkeypatch.setattr(config, "MQTT_DISCOVERY_PER_ENTITY", per_entity)
    proxy = fault_proxy(mosquitto)
    obs = observer(mosquitto)
    topic = "homeassistant/device/rmrace/config"
    pump_topic = "homeassistant/switch/rmrace/pump/config"
    obs.subscribe(topic)
    obs.subscribe("homeassistant/+/rmrace/+/config")
    obs.subscribe("home/rmrace/available")

    async def scenario():
        handle = await _connected(clean_node, proxy, "rmrace")
        found = clean_node.discovery
        await asyncio.sleep(0.3)  # the connect's state pass is over
        proxy.freeze()
        waiting = asyncio.create_task(found.publish())  # sent; its PUBACK is held
        await asyncio.sleep(0.3)
        assert not waiting.done()
        pump = clean_node.components.pop("pump")  # what config_apply does with a pushed config
        pump.stop()
        found.gone({"pump": "switch"})
        proxy.thaw()
        assert await asyncio.wait_for(waiting, 10)
        assert await asyncio.wait_for(found.publish(), 10)
        await _stop(clean_node, handle)

    _run(scenario)
    obs.wait_message("home/rmrace/available", b"offline")  # the stop's: all came before it
    if per_entity:  # removed: an empty config, after the pump's own
        sent = [m.payload for m in obs.matching(pump_topic)]
        assert sent[0] and b"" in sent[1:], sent
        return
    sent = [json.loads(m.payload)["cmps"] for m in obs.matching(topic)]
    assert "pump" in sent[0] and sent[0]["pump"] != {"p": "switch"}  # the connect's
    removing = [i for i, cmps in enumerate(sent) if cmps.get("pump") == {"p": "switch"}]
    assert removing, sent  # the removal went out ...
    assert "pump" not in sent[-1] and "fan" in sent[-1]  # ... and after it, pump is omitted
