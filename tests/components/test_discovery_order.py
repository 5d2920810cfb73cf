"""What a node publishes after it connects, in order: the discovery config, then every
component's state, then the node's status report (the largest of them: made once the states
are out, so the first connect's publications do not all need heap at the same moment)."""

from __future__ import annotations


def entry(component, **args):
    return {"package": "testparts", "component": component, "constructor_args": args}


def test_the_first_status_report_follows_discovery_and_every_components_state(
    runtime, mosquitto, observer, component_node
):
    obs = observer(mosquitto)
    obs.subscribe("#")
    components = {
        "relay": entry("Relay", restore="on"),
        "c": entry("Counter", interval_reading=30, interval_publish=30),
        "pump": entry("Relay", restore="off"),
    }
    _, device_id, _ = component_node(runtime, mosquitto, components)
    config = obs.wait_message(f"homeassistant/device/{device_id}/config", timeout=20)
    status = obs.wait_message(f"home/{device_id}/status", timeout=20)
    for name in components:
        state = obs.wait_message(f"home/{device_id}/{name}", timeout=10)
        assert config.index < state.index < status.index, name
    assert status.json()["components"] == 3
    # the config is retained: a subscriber that comes later gets it (Home Assistant restarting)
    fresh = observer(mosquitto)
    fresh.subscribe(f"homeassistant/device/{device_id}/config")
    late = fresh.wait_message(f"homeassistant/device/{device_id}/config", timeout=10)
    assert late.retain and late.payload == config.payload
