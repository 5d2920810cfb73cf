"""Compatibility routes (off by default): Pico-Home-Hub's PULL mode and ESPHome's REST API."""

from __future__ import annotations

import urllib.parse


def test_compatibility_routes_are_off_by_default(runtime, mosquitto, http_node):
    node = http_node(runtime, mosquitto)
    assert node.request("GET", "/lamp/on")[0] == 404
    assert node.request("POST", "/switch/lamp/turn_on")[0] == 404
    assert node.request("GET", "/api/v1/entities/lamp")[1]["state"] == "OFF"


def test_pico_home_hub_pulls_and_switches_with_its_response_types(runtime, mosquitto, http_node,
                                                                  observer):  # fmt: skip
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto, pico_home_hub=True)
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")
    mark = obs.mark()
    status, answer = node.request("GET", "/lamp/on", headers={"X-RESPONSE-TYPE": "1"})
    assert (status, answer) == (200, {"name": "lamp", "state": "ON"})
    obs.wait_message(node.topic("lamp"), b"ON", after=mark)
    status, answer = node.request("GET", "/lamp/off")  # default 2: text/html
    assert status == 200 and "lamp: OFF" in answer and "<html>" in answer
    assert node.request("GET", "/lamp", headers={"X-REPONSE-TYPE": "1"})[1]["state"] == "OFF"
    assert node.request("GET", "/nope/on")[0] == 404
    assert node.request("GET", "/lamp/explode")[0] == 404


def test_esphome_clients_read_and_act(runtime, mosquitto, http_node, observer):
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto, esphome=True)
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")
    mark = obs.mark()
    assert node.request("POST", "/switch/lamp/turn_on") == (
        200, {"id": "switch/Lamp", "state": "ON", "value": True})  # fmt: skip
    obs.wait_message(node.topic("lamp"), b"ON", after=mark)
    by_name = "/switch/" + urllib.parse.quote("Lamp") + "/toggle"
    assert node.request("POST", by_name)[1]["state"] == "OFF"
    volts = node.request("GET", "/sensor/" + urllib.parse.quote("Meter volts"))[1]
    assert volts == {"id": "sensor/Meter volts", "state": "3.3 V", "value": 3.3}
    assert node.request("GET", "/switch/nope")[0] == 404
    assert node.request("POST", "/button/bell/press")[0] == 200
