"""_templates/ as a user gets them: copied into a fresh node folder with their components.py,
loaded through the registry on both runtimes; each publishes, answers its commands, and is
discovered with a payload our rules and Home Assistant's schemas take."""

from __future__ import annotations

import secrets
import shutil

from harness import REPO
from harness.ha_rules import validate_device_discovery

TEMPLATES = REPO / "_templates"
ENTITIES = {  # component id in the discovery payload -> HA platform
    "room_climate_temperature": "sensor",
    "room_climate_humidity": "sensor",
    "garden_pump": "switch",
    "greeter": "button",
    "front_door": "binary_sensor",
    "ticker": "sensor",
}


def test_templates_run_answer_commands_and_are_discovered(runtime, mosquitto, run_py, observer, tmp_path, ha_validate):  # fmt: skip
    folder = tmp_path / "node"
    folder.mkdir()
    for path in TEMPLATES.glob("*.py"):
        shutil.copy(path, folder / path.name)
    device = f"t{secrets.token_hex(3)}"
    (folder / "config.py").write_text(
        f"DEVICE_NAME = {device!r}\nMQTT_HOST = {mosquitto.host!r}\nMQTT_PORT = {mosquitto.port}\n"
        "RTC_SYNC_ACTIVE = False\n"
    )
    obs = observer(mosquitto)
    obs.subscribe(f"home/{device}/#")
    obs.subscribe(f"homeassistant/device/{device}/config")
    proc = run_py(runtime, REPO / "main.py", "--config", str(folder / "config.py"), cwd=folder)

    def topic(sub):
        return f"home/{device}/{sub}"

    # discovered, with a valid payload
    config = obs.wait_message(f"homeassistant/device/{device}/config", timeout=30)
    cmps = config.json()["cmps"]
    for cid, platform in ENTITIES.items():
        assert cmps.get(cid, {}).get("p") == platform, (cid, sorted(cmps))
    assert validate_device_discovery(config.topic, config.payload) == []
    assert ha_validate([(config.topic, config.payload)]) == []
    proc.wait_line("5 components running, 0 failed", timeout=10)

    # the sensor publishes both quantities, and takes new intervals over MQTT
    reading = obs.wait_message(topic("room_climate"), timeout=30).json()
    assert set(reading) == {"temperature", "humidity"}
    mark = obs.mark()
    obs.publish(topic("room_climate/interval/set"), '{"reading": 1, "publish": 1}')
    echo = obs.wait_message(topic("room_climate/interval"), timeout=10, after=mark).json()
    assert (echo["reading"], echo["publish"]) == (1, 1)
    obs.wait_messages(topic("room_climate"), 2, timeout=10, after=mark)

    # the switch answers ON and OFF with its state
    obs.wait_message(topic("garden_pump"), b"OFF", timeout=10)  # restore "off"
    mark = obs.mark()
    obs.publish(topic("garden_pump/set"), "ON")
    obs.wait_message(topic("garden_pump"), b"ON", timeout=10, after=mark)

    # the button runs its action per press
    mark = obs.mark()
    obs.publish(topic("greeter/set"), "PRESS")
    assert obs.wait_message(topic("greeter/said"), timeout=10, after=mark).text == "hello 1"

    # the binary sensor follows its input (a file standing in for a door contact)
    obs.wait_message(topic("front_door"), b"OFF", timeout=10)
    mark = obs.mark()
    (folder / "front_door_on").write_text("")
    obs.wait_message(topic("front_door"), b"ON", timeout=10, after=mark)

    # the plain component counts, and its command resets it
    obs.wait_message(topic("ticker"), lambda m: m.text not in ("", "0"), timeout=20)
    mark = obs.mark()
    obs.publish(topic("ticker/set"), "reset")
    obs.wait_message(topic("ticker"), b"0", timeout=10, after=mark)
