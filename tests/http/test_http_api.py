"""The HTTP API on a real node (CPython and the unix port) against mosquitto."""

from __future__ import annotations

import pytest


def test_info_says_what_the_node_is(runtime, mosquitto, http_node):
    node = http_node(runtime, mosquitto)
    status, info = node.request("GET", "/api/v1/info")
    assert status == 200
    assert info["id"] == node.device_id
    assert info["platform"] == ("cpython" if runtime == "cpython" else "unix")
    for key in ("version", "uptime", "ram_free", "reconnects", "ip", "reset_cause", "http"):
        assert key in info


def test_entities_lists_every_entity_with_its_state_and_actions(runtime, mosquitto, http_node):
    node = http_node(runtime, mosquitto)
    status, entities = node.request("GET", "/api/v1/entities")
    assert status == 200
    by_id = {e["id"]: e for e in entities}
    assert set(by_id) >= {"lamp", "bell", "chatter", "meter_count", "meter_volts"}
    assert by_id["lamp"] | {"state": None} == {
        "id": "lamp", "component": "lamp", "type": "switch", "name": "Lamp", "unit": None,
        "state": None, "writable": True, "actions": ["on", "off", "toggle"], "category": None,
    }  # fmt: skip
    assert by_id["bell"]["actions"] == ["press"]
    assert by_id["meter_volts"]["unit"] == "V"
    assert by_id["meter_volts"]["writable"] is False and by_id["meter_volts"]["actions"] == []
    status, volts = node.request("GET", "/api/v1/entities/meter_volts")
    assert status == 200 and volts | {"state": None} == by_id["meter_volts"] | {"state": None}


def test_an_action_over_http_runs_the_mqtt_command_and_is_seen_on_mqtt(
    runtime, mosquitto, http_node, observer
):
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")  # restore: "off" at start
    mark = obs.mark()
    status, lamp = node.request("POST", "/api/v1/entities/lamp/on")
    assert (status, lamp["state"]) == (200, "ON")
    obs.wait_message(node.topic("lamp"), b"ON", after=mark)
    mark = obs.mark()
    obs.publish(node.topic("lamp/set"), "OFF")  # and MQTT is seen over HTTP
    obs.wait_message(node.topic("lamp"), b"OFF", after=mark)
    assert node.request("GET", "/api/v1/entities/lamp")[1]["state"] == "OFF"


def test_a_button_press_over_http_runs_the_press_handler(runtime, mosquitto, http_node):
    node = http_node(runtime, mosquitto)
    mark = node.proc.mark()
    assert node.request("POST", "/api/v1/entities/bell/press")[0] == 200
    node.proc.wait_line("bell: ring", after=mark)


def test_for_turns_the_switch_back_on_the_node_after_the_client_is_gone(
    runtime, mosquitto, http_node, observer
):
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")
    mark = obs.mark()
    status, lamp = node.request("POST", "/api/v1/entities/lamp/on?for=1")
    assert (status, lamp["state"], lamp["revert_in"]) == (200, "ON", 1)
    on = obs.wait_message(node.topic("lamp"), b"ON", after=mark)
    obs.wait_message(node.topic("lamp"), b"OFF", after=on.index + 1, timeout=10)


@pytest.mark.parametrize("via", ["http", "mqtt"])
def test_a_later_command_cancels_a_pending_revert(runtime, mosquitto, http_node, observer, via):
    # The latest command wins: a plain command after one with for= keeps its state
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")
    assert node.request("POST", "/api/v1/entities/lamp/on", {"for": 2})[0] == 200
    mark = node.proc.mark()
    if via == "http":
        assert node.request("POST", "/api/v1/entities/lamp/on")[0] == 200
        node.request("POST", "/api/v1/entities/bell/press")  # a marker 0 s later ...
    else:  # the broker keeps one client's messages in order: the bell rings after the set
        obs.publish(node.topic("lamp/set"), "ON")
        obs.publish(node.topic("bell/set"), "PRESS")
    node.proc.wait_line("bell: ring", after=mark)
    with pytest.raises(AssertionError):  # ... and no revert within 3 s (it was due after 2)
        node.proc.wait_line("(for=)", after=mark, timeout=3)
    assert node.request("GET", "/api/v1/entities/lamp")[1]["state"] == "ON"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [
        ("GET", "/api/v1/entities/nope", None, 404, "no entity 'nope'"),
        ("POST", "/api/v1/entities/nope/on", None, 404, "no entity 'nope'"),
        ("POST", "/api/v1/entities/lamp/explode", None, 404, "has no action 'explode'"),
        ("POST", "/api/v1/entities/meter_volts/set", None, 405, "read-only"),
        ("POST", "/api/v1/entities/lamp/on", b"{not json", 400, "not JSON"),
        ("POST", "/api/v1/entities/lamp/on", b"[1, 2]", 400, "JSON object"),
        ("POST", "/api/v1/entities/lamp/on", {"for": "soon"}, 400, "for must be seconds"),
        ("POST", "/api/v1/entities/lamp/on", {"for": -1}, 400, "more than 0"),
        ("POST", "/api/v1/entities/bell/press", {"for": 2}, 400, "for switches"),
        ("PUT", "/api/v1/logging/level", {"level": "loud"}, 400, "level must be"),
        ("GET", "/api/v1/nothing", None, 404, "Not found"),
    ],
    ids=[
        "entity",
        "entity-action",
        "action",
        "read-only",
        "json",
        "json-list",
        "for-type",
        "for-negative",
        "for-button",
        "level",
        "route",
    ],  # fmt: skip
)
def test_bad_requests_get_a_clear_error_and_change_nothing(
    runtime, mosquitto, http_node, method, path, body, status, words
):
    node = http_node(runtime, mosquitto)
    before = node.request("GET", "/api/v1/entities/lamp")[1]["state"]
    got, answer = node.request(method, path, body)
    assert got == status
    assert words in str(answer)
    assert node.request("GET", "/api/v1/entities/lamp")[1]["state"] == before
