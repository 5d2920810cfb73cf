"""System topics over MQTT (FmPyIOT's): sysinfo, parameters, reverse topics, actions; and
the parameters over HTTP."""

from __future__ import annotations

import json

from harness.ha_rules import validate_device_discovery


def online(obs, node):
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")  # connected, subscribed, discovery out


def test_sysinfo_is_published_on_request(runtime, mosquitto, http_node, observer):
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    online(obs, node)
    obs.subscribe(node.topic("sysinfo"))
    obs.publish(node.topic("sysinfo/set"), "now")
    info = obs.wait_message(node.topic("sysinfo")).json()
    assert info["platform"] == ("cpython" if runtime == "cpython" else "unix")
    for key in ("uname", "ip", "rssi", "mem_free", "mem_alloc", "statvfs", "version"):
        assert key in info
    if runtime == "micropython":
        assert info["mem_free"] > 0 and info["mem_alloc"] > 0


def test_actions_lists_what_each_entity_accepts(runtime, mosquitto, http_node, observer):
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    online(obs, node)
    obs.subscribe(node.topic("actions"))
    obs.publish(node.topic("actions/set"), "")
    actions = obs.wait_message(node.topic("actions")).json()
    assert actions["lamp"] == ["on", "off", "toggle"] and actions["bell"] == ["press"]
    assert "meter_count" not in actions


def test_a_reverse_topic_forces_a_reading(runtime, mosquitto, http_node, observer):
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    online(obs, node)
    # slow the meter down so that only the reverse topic makes it read
    assert node.request("PATCH", "/api/v1/params", {"meter.interval_reading": 600,
                                                    "meter.interval_publish": 600})[0] == 200  # fmt: skip
    obs.subscribe(node.topic("meter"))
    mark = obs.mark()
    # The node subscribes ./meter/get at its connect, from a worker of its own: `online` does
    # not prove that SUBSCRIBE has reached the broker, so ask again each second (10 at most).
    for _ in range(10):
        obs.publish(node.topic("meter/get"), "")
        try:
            obs.wait_message(node.topic("meter"), after=mark, timeout=1.0)
            return
        except AssertionError:
            continue
    obs.wait_message(node.topic("meter"), after=mark, timeout=1.0)  # says what came instead


def test_parameters_are_listed_set_validated_and_persisted(runtime, mosquitto, http_node,
                                                           observer):  # fmt: skip
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    online(obs, node)
    obs.subscribe(node.topic("params"))
    params = obs.wait_message(node.topic("params")).json()
    assert params["thermostat.target"] == 21.0 and params["meter.interval_reading"] == 1
    status, declared = node.request("GET", "/api/v1/params/declared")  # what the page builds
    assert status == 200 and sorted(p["id"] for p in declared) == sorted(params)
    assert declared[[p["id"] for p in declared].index("thermostat.target")] == {
        "id": "thermostat.target", "component": "thermostat", "key": "target", "type": "number",
        "min": 5, "max": 30, "step": 0.5, "unit": "°C", "value": 21.0,
    }  # fmt: skip
    mark = obs.mark()
    obs.publish(node.topic("params/set"), json.dumps({"thermostat.target": 23.5}))
    assert obs.wait_message(node.topic("params"), after=mark).json()["thermostat.target"] == 23.5
    status, answer = node.request(
        "PATCH",
        "/api/v1/params",
        {"thermostat.mode": "comfort", "thermostat.target": 99, "nope.x": 1},  # fmt: skip
    )
    assert status == 400
    assert set(answer["errors"]) == {"thermostat.target", "nope.x"}
    assert answer["params"]["thermostat.mode"] == "comfort"  # the good one is set
    assert answer["params"]["thermostat.target"] == 23.5  # the bad one changed nothing
    assert node.request("GET", "/api/v1/params")[1] == answer["params"]
    saved = json.loads((node.folder / "params.json").read_text())
    assert saved["thermostat.target"] == 23.5 and saved["thermostat.mode"] == "comfort"


def test_saved_parameters_come_back_after_a_restart(runtime, mosquitto, http_node, observer):
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    online(obs, node)
    assert node.request("PATCH", "/api/v1/params", {"thermostat.label": "attic"})[0] == 200
    node.proc.stop()
    obs.subscribe(node.topic("params"))
    mark = obs.mark()
    again = http_node(runtime, mosquitto, folder=node.folder)
    obs.wait_message(node.topic("params"), lambda m: not m.retain and m.json()["thermostat.label"] == "attic",
                     after=mark)  # fmt: skip
    assert again.request("GET", "/api/v1/params")[1]["thermostat.label"] == "attic"


def test_parameters_are_home_assistant_entities(runtime, mosquitto, http_node, observer):
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    topic = f"homeassistant/device/{node.device_id}/config"
    obs.subscribe(topic)
    payload = obs.wait_message(topic).payload
    assert validate_device_discovery(topic, payload) == []
    cmps = json.loads(payload)["cmps"]
    by_id = {k[len("system_") :]: v for k, v in cmps.items() if k.startswith("system_")}
    assert by_id["thermostat_target"]["p"] == "number"
    assert by_id["thermostat_target"]["min"] == 5 and by_id["thermostat_target"]["max"] == 30
    assert by_id["thermostat_mode"]["p"] == "select"
    assert by_id["thermostat_mode"]["ops"] == ["eco", "comfort"]
    assert by_id["thermostat_label"]["p"] == "text"
    assert by_id["meter_interval_reading"]["cmd_t"] == node.topic("params/set")


def test_an_action_with_for_over_mqtt_reverts_on_the_node(runtime, mosquitto, http_node,
                                                          observer):  # fmt: skip
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    online(obs, node)
    obs.subscribe(node.topic("actions/result"))
    mark = obs.mark()
    obs.publish(node.topic("actions/run"), json.dumps({"id": "lamp", "action": "on", "for": 1}))
    result = obs.wait_message(node.topic("actions/result"), after=mark).json()
    assert result == {"id": "lamp", "action": "on", "ok": True, "state": "ON"}
    on = obs.wait_message(node.topic("lamp"), b"ON", after=mark)
    obs.wait_message(node.topic("lamp"), b"OFF", after=on.index + 1)  # reverted by the node
    mark = obs.mark()
    obs.publish(node.topic("actions/run"), json.dumps({"id": "lamp", "action": "explode"}))
    result = obs.wait_message(node.topic("actions/result"), after=mark).json()
    assert result["ok"] is False and "has no action 'explode'" in result["error"]
