"""The base classes, the registry and discovery end to end: a node as its own process on both
runtimes, watched from a paho client the way Home Assistant watches it."""

from __future__ import annotations

from harness.ha_rules import validate_device_discovery, validate_entity_discovery


def entry(component, **args):
    return {"package": "testparts", "component": component, "constructor_args": args}


def log_line(device_id, key, text):
    return lambda m: (
        m.topic.startswith("home/log/")
        and m.topic.endswith("/" + device_id)
        and (m.payload.startswith(f"[{key}] {text}".encode()))
    )


REGISTRY_CASES = {
    "ok": entry("Counter", interval_reading=1, interval_publish=1),
    "uses": entry("Uses", other={"ref": "ok"}),
    "unknown_package": {"package": ".no.such", "component": "X"},
    "missing_class": {"package": "testparts", "component": "Nope"},
    "wrong_argument": entry("Counter", colour="red"),
    "bad_intervals": entry("Counter", interval_reading=10, interval_publish=5),
    "missing_ref": entry("Uses", other={"ref": "ghost"}),
    "cycle_a": entry("Uses", other={"ref": "cycle_b"}),
    "cycle_b": entry("Uses", other={"ref": "cycle_a"}),
    "no_package": {"component": "Counter"},
    "bad name": entry("Counter"),
    "status": entry("Counter"),
    "service": {
        "package": "testparts",
        "component": "service",
        "constructor_args": {"greeting": "hi"},
    },
    "ticker": {
        "package": "testparts",
        "component": "async_service",
        "constructor_args": {"period": 1},
    },
}
REASONS = {
    "unknown_package": "cannot import pysmartnode.components.no.such",
    "missing_class": "testparts has no Nope",
    "wrong_argument": "wrong arguments for Counter",
    "bad_intervals": "ValueError: interval_publish (5 s) must not be shorter",
    "missing_ref": "constructor_args.other refers to 'ghost', which is not in COMPONENTS",
    "cycle_a": "cyclic reference: cycle_",  # which end it starts from: the dict's order
    "cycle_b": "cyclic reference: cycle_",
    "no_package": "package is missing",
    "bad name": "ValueError: component name 'bad name'",
    "status": "the name 'status' is the node's own topic",
}


def test_registry_logs_each_bad_entry_with_its_reason_and_runs_the_rest(
    runtime, mosquitto, observer, component_node
):
    obs = observer(mosquitto)
    obs.subscribe("#")
    proc, device_id, _ = component_node(
        runtime, mosquitto, REGISTRY_CASES, INTERVAL_SENSOR_PUBLISH=3
    )
    for key, reason in REASONS.items():
        obs.wait_message(
            f"home/log/error/{device_id}",
            lambda m, key=key, reason=reason: (
                m.payload.startswith(f"[registry] component {key} failed: ".encode())
                and reason.encode() in m.payload
            ),
            timeout=15,
        )
    obs.wait_message(
        f"home/log/info/{device_id}", log_line(device_id, "uses", "got ok"), timeout=10
    )
    obs.wait_message(f"home/log/info/{device_id}", b"[service] service says hi", timeout=10)
    obs.wait_messages(
        f"home/log/info/{device_id}",
        2,
        lambda m: m.payload.startswith(b"[async_service] tick"),
        timeout=10,
    )
    obs.wait_messages(f"home/{device_id}/ok", 2, timeout=10)
    status = obs.wait_message(f"home/{device_id}/status", timeout=10).json()
    # ok, uses, service, ticker run; cycle_b fails too (its reference failed)
    assert (status["components"], status["components_failed"]) == (4, 10)


def test_a_failing_reading_is_logged_once_per_streak_and_zero_is_published(
    runtime, mosquitto, observer, component_node
):
    obs = observer(mosquitto)
    obs.subscribe("#")
    components = {
        "c": entry("Counter", fail_from=2, fail_to=5, interval_reading=1, interval_publish=1)
    }
    proc, device_id, _ = component_node(runtime, mosquitto, components)
    topic = f"home/{device_id}/c"
    values = [m.json()["count"] for m in obs.wait_messages(topic, 4, timeout=15)]
    assert values[:2] == [0, 1] and values[2:] == [5, 6]  # readings 2-4 failed: nothing published
    assert obs.wait_message(topic, timeout=5).json()["zero"] == 0
    failed = obs.matching(f"home/log/error/{device_id}", log_line(device_id, "c", "reading failed"))
    assert len(failed) == 1
    obs.wait_message(
        f"home/log/info/{device_id}", log_line(device_id, "c", "reading again"), timeout=5
    )


def test_discovery_is_published_again_after_a_reconnect_and_after_home_assistant_starts(
    runtime, broker, observer, component_node, fault_proxy
):
    obs = observer(broker)
    obs.subscribe("#")
    proxy = fault_proxy(broker)
    components = {
        "relay": entry("Relay"),
        "c": entry("Counter", interval_reading=30, interval_publish=30),
    }
    proc, device_id, _ = component_node(runtime, proxy, components)
    config_topic = f"homeassistant/device/{device_id}/config"
    state_topic = f"home/{device_id}/c"

    def config_then_state(after):
        config = obs.wait_message(config_topic, timeout=20, after=after)
        assert config.qos == 1
        state = obs.wait_message(state_topic, timeout=10, after=after)
        if broker.kind == "mosquitto":  # amqtt may pass a small message on before a big one
            assert config.index < state.index, "state before config"
        return config

    first = config_then_state(0)
    assert validate_device_discovery(config_topic, first.payload) == []
    mark = obs.mark()
    proxy.drop()  # the node reconnects; a broker without persistence would have forgotten all
    # a QoS 1 state caught in flight by the drop is sent again first (MQTT 3.1.1 §4.4): HA had
    # the config already; what the node publishes after `online` must follow the config
    online = obs.wait_message(f"home/{device_id}/available", b"online", timeout=20, after=mark)
    config_then_state(online.index)
    mark = obs.mark()
    obs.publish("homeassistant/status", "online")
    again = config_then_state(mark)
    assert again.json() == first.json()


def test_per_entity_discovery_for_old_home_assistant(runtime, mosquitto, observer, component_node):
    obs = observer(mosquitto)
    obs.subscribe("homeassistant/#")
    components = {"relay": entry("Relay"), "bell": entry("Bell")}
    proc, device_id, _ = component_node(
        runtime, mosquitto, components, MQTT_DISCOVERY_PER_ENTITY=True
    )
    for platform, key in (("switch", "relay"), ("button", "bell"), ("button", "status_restart")):
        topic = f"homeassistant/{platform}/{device_id}/{key}/config"
        msg = obs.wait_message(topic, timeout=15)
        assert validate_entity_discovery(topic, msg.payload) == []
    assert not obs.matching("homeassistant/device/#")


def test_switch_restores_its_retained_state_and_turns_off_without_the_broker(
    runtime, mosquitto, observer, component_node, fault_proxy, tmp_path
):
    obs = observer(mosquitto)
    obs.subscribe("#")
    proxy = fault_proxy(mosquitto)
    components = {
        "pump": entry("Relay", offline_off=2),
        "lamp": entry("Relay", restore="on"),
        "fan": entry("Relay", restore="off"),
    }
    obs.publish("home/bpump01/pump", "ON", qos=1, retain=True)  # as a previous run left it
    proc, device_id, _ = component_node(
        runtime, proxy, components, device_id="bpump01", MQTT_KEEPALIVE=4
    )
    obs.wait_message("home/bpump01/pump", lambda m: m.payload == b"ON" and not m.retain, timeout=15)
    obs.wait_message("home/bpump01/lamp", b"ON", timeout=10)
    obs.wait_message("home/bpump01/fan", b"OFF", timeout=10)
    proxy.refuse(True)  # the broker vanishes for the node
    proxy.drop()
    proc.wait_line("pump: turned off: broker unreachable for 2 s", timeout=20)
    proxy.refuse(False)
    obs.wait_message("home/bpump01/pump", lambda m: m.payload == b"OFF", timeout=30)


def test_restart_button_ends_the_process_and_the_next_start_says_why(
    runtime, mosquitto, observer, component_node
):
    obs = observer(mosquitto)
    obs.subscribe("#")
    proc, device_id, folder = component_node(runtime, mosquitto, {})
    obs.wait_message(f"homeassistant/device/{device_id}/config", timeout=15)
    obs.publish(f"home/{device_id}/restart/set", "PRESS")
    assert proc.wait(timeout=15) != 0  # a supervisor starts it again
    mark = obs.mark()
    component_node(runtime, mosquitto, {}, folder=folder, device_id=device_id)
    obs.wait_message(
        f"home/log/warn/{device_id}",
        lambda m: b"last reset: restart requested over MQTT" in m.payload,
        timeout=15,
        after=mark,
    )
