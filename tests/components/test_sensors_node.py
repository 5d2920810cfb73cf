"""Every sensor of pysmartnode/components/sensors in one node on the MicroPython unix port,
against mosquitto, with a fault on each device (tests/fakes read them from the FAKE_HARDWARE
file while the node runs): each fault is logged over MQTT, nothing is published for it, the
node runs on; once the faults are gone every sensor publishes real values again."""

from __future__ import annotations

import json
import math
import secrets

import pytest
from fake_hardware import node_env
from harness import REPO

TANK, PIPE = "28ff4a1c8216043c", "28ff9e3361160337"
I2C = {"sda": 21, "scl": 22}
FAST = {"interval_reading": 1, "interval_publish": 1}


def entry(module: str, cls: str, **args) -> dict:
    return {"package": ".sensors." + module, "component": cls, "constructor_args": args | FAST}


COMPONENTS = {
    "water": entry("ds18b20", "DS18B20", pin=4, roms={"tank": TANK, "pipe": PIPE}),
    "probes": entry("ds18b20", "DS18B20", pin=6),  # found at the first reading
    "climate": entry("bme280", "BME280", **I2C),
    "bath": entry("htu21d", "HTU21D", **I2C),
    "light": entry("bh1750", "BH1750", **I2C),
    "air": entry("dht", "DHT22", pin=4),
    "shed": entry("dht", "DHT11", pin=5),
    "soil": entry("analog", "Analog", pin=34, calibration=[[52000, 0], [21000, 100]]),
    "battery": entry("battery", "Battery", pin=35),
    "adc8": entry("mcp3208", "MCP3208", sck=18, mosi=23, miso=19, cs=5, channels={"a": 0}),
    "ph": entry("atlas_ezo", "AtlasEZO", kind="ph", **I2C),
    "ec": entry(
        "atlas_ezo",
        "AtlasEZO",
        kind="ec",
        uart=2,
        temperature={"ref": "water"},
        temperature_type="tank",
    ),  # fmt: skip
    "flow": entry("pulse_counter", "PulseCounter", pin=13),
    "outside": entry(
        "remote",
        "RemoteSensor",
        topic="home/other/climate",
        key="temperature",
        sensor_type="temperature",
        stale=3,
    ),  # fmt: skip
    "door": {
        "package": ".sensors.binary_input",
        "component": "BinaryInput",
        "constructor_args": {"pin": 14, "invert": True, "device_class": "door"},
    },  # fmt: skip
    "_order": ["water"],  # the EC circuit's temperature sensor first
}
# config key -> (fault set for its device, text its logged reason contains)
FAULTS = {
    "water": ({"ow:" + PIPE: "range"}, "power-on value 85"),
    "probes": ({"ow:pin6": "enodev"}, "no DS18B20 found"),  # found once the bus answers
    "climate": ({"i2c:118": "enodev"}, "ENODEV"),
    "bath": ({"i2c:64": "crc"}, "CRC mismatch"),
    "light": ({"i2c:35": "etimedout"}, "ETIMEDOUT"),
    "air": ({"dht:4": "crc"}, "checksum error"),
    "shed": ({"dht:5": "etimedout"}, "no answer ("),
    "soil": ({"adc:34": "range"}, "at the rail"),
    "battery": ({"adc:35": "range"}, "ADC saturated"),
    "adc8": ({"spi:5": "float"}, "null bit high"),
    "ph": ({"i2c:99": "range"}, "reading nan out of range"),
    "ec": ({"uart:2": "error"}, "answered *ER"),
    "flow": ({"pin:13": 20000}, "above max_rate"),
    "outside": ({}, "stale: no message on home/other/climate"),
}
# what each publishes once the faults are gone (the fake chips' datasheet values)
GOOD = {
    "water": {"tank": 21.5, "pipe": -10.125},
    "probes": {"t_16043c": 21.5, "t_160337": -10.125, "t_05069e": 85.0},
    "climate": {"temperature": 25.1, "humidity": 39.1, "pressure": 1006.5},
    "bath": {"temperature": 24.7, "humidity": 32.3},
    "light": 6667,
    "air": {"temperature": 23.4, "humidity": 45.6},
    "shed": {"temperature": 23.4, "humidity": 45},
    "soil": 70.96774193548387,
    "battery": {"voltage": 3.02, "battery": 0},
    "adc8": 0.081,
    "ph": 7.02,
    # the fake's 1413 µS/cm standard is at 20 °C; the circuit compensates with the tank's 21.5
    "ec": round(1413 * (1 + 0.02 * (20 - 25)) / (1 + 0.02 * (21.5 - 25)) / 1000, 3),
}


@pytest.fixture
def node(run_py, mosquitto, observer, tmp_path):
    faults = tmp_path / "faults.json"
    everything = {"pin:14": 0}
    for fault, _ in FAULTS.values():
        everything |= fault
    faults.write_text(json.dumps(everything))
    device_id = f"s{secrets.token_hex(3)}"
    (tmp_path / "config.py").write_text(
        f"DEVICE_NAME = {device_id!r}\nMQTT_HOST = {mosquitto.host!r}\n"
        f"MQTT_PORT = {mosquitto.port}\nMQTT_KEEPALIVE = 10\nRTC_SYNC_ACTIVE = False\n"
        "WATCHDOG_TIMEOUT = 30\nLOG_QUEUE_LEN = 64\n"
    )
    (tmp_path / "components.py").write_text(f"COMPONENTS = {COMPONENTS!r}\n")
    obs = observer(mosquitto)
    obs.subscribe("#")
    env = node_env(FAKE_HARDWARE=str(faults))
    proc = run_py("micropython", REPO / "main.py", "--config", str(tmp_path / "config.py"),
                  cwd=tmp_path, env=env)  # fmt: skip
    obs.wait_message(f"home/{device_id}/available", b"online", timeout=20)
    return proc, obs, device_id, faults


def test_every_sensor_fault_is_logged_publishes_nothing_and_clears(node):
    proc, obs, device_id, faults = node
    errors = f"home/log/error/{device_id}"
    seen = {}
    for key, (_, reason) in FAULTS.items():
        seen[key] = obs.wait_message(
            errors,
            lambda m, key=key, reason=reason: (
                m.payload.startswith(f"[{key}] reading failed: ".encode())
                and reason.encode() in m.payload
            ),
            timeout=15,
        )
    for key in FAULTS:
        states = obs.matching(f"home/{device_id}/{key}")
        if key == "flow":  # its first reading, before the noise came, was a real 0 L/min
            assert [m.json()["flow"] for m in states] in ([], [0]), states
            states = [m for m in states if m.index > seen[key].index]
        assert states == [], f"{key} published under its fault"
    assert obs.wait_message(f"home/{device_id}/door", timeout=10).payload == b"ON"
    assert proc.returncode is None, proc.tail()

    mark = obs.mark()
    faults.write_text(json.dumps({"pin:13": 45, "pin:14": 1}))  # the faults are gone
    obs.publish("home/other/climate", json.dumps({"temperature": 12.5}), qos=1)
    for key, value in GOOD.items():
        msg = obs.wait_message(f"home/{device_id}/{key}", timeout=15, after=mark)
        assert msg.json() == value, key
    discovery = obs.wait_message(  # the DS18B20s found on the bus became entities
        f"homeassistant/device/{device_id}/config",
        lambda m: b"probes_t_05069e" in m.payload, timeout=10, after=mark,
    ).json()["cmps"]  # fmt: skip
    assert discovery["probes_t_16043c"]["dev_cla"] == "temperature"
    assert discovery["probes_t_16043c"]["unit_of_meas"] == "°C"
    flow = obs.wait_message(f"home/{device_id}/flow", timeout=10, after=mark).json()
    assert 0 <= flow["flow"] < 10 and flow["water"] >= 0
    assert obs.wait_message(f"home/{device_id}/outside", timeout=10, after=mark).json() == 12.5
    obs.wait_message(f"home/{device_id}/door", b"OFF", timeout=10, after=mark)

    # the remote sensor: garbage refused, then stale: it stops publishing
    garbage = obs.mark()
    obs.publish("home/other/climate", '{"temperature": NaN}', qos=1)
    stale = obs.wait_message(
        errors, lambda m: m.payload.startswith(b"[outside] reading failed: OSError: stale"),
        timeout=15, after=garbage,
    )  # fmt: skip
    last = obs.matching(f"home/{device_id}/outside", after=garbage)
    assert all(m.json() == 12.5 for m in last)
    obs.wait_messages(f"home/{device_id}/climate", 2, timeout=10, after=stale.index)
    assert obs.count(f"home/{device_id}/outside", after=stale.index + 1) <= 1  # one in flight
    for key in FAULTS:  # never a NaN or an infinity (Python's json reads both)
        for m in obs.matching(f"home/{device_id}/{key}"):
            value = m.json()
            numbers = value.values() if isinstance(value, dict) else [value]
            assert all(math.isfinite(v) for v in numbers), m
    assert proc.returncode is None, proc.tail()
