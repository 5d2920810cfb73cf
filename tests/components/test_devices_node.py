"""devices/ in one MicroPython unix-port node against mosquitto, seen from outside: the fake
displays write their screens to a folder (FAKE_DISPLAYS), the fake `machine` logs pin writes
(FAKE_MACHINE_LOG) and FAKE_HARDWARE makes one display absent."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_hardware import node_env, node_folder
from harness import REPO, Broker, Observer, Proc, micropython_path
from harness.runtimes import run_py

LINES = {"sensors": [{"ref": "air"}, {"ref": "soil"}], "sensor_types": ["temperature", None],
         "labels": ["Air", "Soil"], "decimals": 0, "interval": 1}  # fmt: skip
I2C = {"sda": 21, "scl": 22}
COMPONENTS = {
    "air": {"package": ".sensors.bme280", "component": "BME280",  # the fake: 25.08 °C
            "constructor_args": I2C | {"interval_reading": 1, "interval_publish": 1}},
    "soil": {"package": ".sensors.remote", "component": "RemoteSensor",  # never has a value
             "constructor_args": {"topic": "home/nowhere/soil"}},
    "heater": {"package": ".switches.gpio", "component": "GPIO",
               "constructor_args": {"pin": 5, "restore": "off"}},
    "climate": {"package": ".devices.climate", "component": "Climate",
                "constructor_args": {"sensor": {"ref": "air"}, "sensor_type": "temperature",
                                     "heater": {"ref": "heater"}, "interval": 1}},
    "oled": {"package": ".devices.ssd1306", "component": "SSD1306",
             "constructor_args": I2C | LINES},
    "gone": {"package": ".devices.ssd1306", "component": "SSD1306",  # absent: no ACK
             "constructor_args": I2C | LINES | {"address": 61}},
    "lcd": {"package": ".devices.lcd1602", "component": "LCD1602",
            "constructor_args": I2C | LINES},
}  # fmt: skip
SCREEN = ["Air 25", "Soil --"]


@dataclass
class Node:
    obs: Observer
    device_id: str
    folder: Path
    env: dict[str, str]
    proc: Proc | None = None

    def topic(self, sub: str) -> str:
        return f"home/{self.device_id}/{sub}"

    def start(self) -> None:
        self.proc = run_py("micropython", REPO / "main.py", "--config",
                           str(self.folder / "config.py"), cwd=self.folder, env=self.env)  # fmt: skip
        self.obs.wait_message(self.topic("available"), b"online", timeout=20, after=self.mark)

    @property
    def mark(self) -> int:
        return self.obs.mark()


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[Node]:
    micropython_path()
    broker = Broker("mosquitto", tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    folder = tmp_path_factory.mktemp("node")
    device_id = node_folder(folder, broker, COMPONENTS, "d")
    (folder / "screens").mkdir()
    (folder / "hardware.json").write_text(json.dumps({"i2c:61": "enodev"}))
    env = node_env(FAKE_DISPLAYS=str(folder / "screens"), FAKE_HARDWARE=str(folder / "hardware.json"),
                   FAKE_MACHINE_LOG=str(folder / "pins.log"))  # fmt: skip
    obs = Observer(broker)
    obs.subscribe("#")
    node = Node(obs, device_id, folder, env)
    try:
        node.start()
        yield node
    finally:
        if node.proc is not None:
            node.proc.stop()
        obs.close()
        broker.stop()


def framebuf_frame(lines: list[str]) -> bytes:
    """MicroPython's own framebuf rendering of lines (8 px apart), MONO_VLSB 128x64."""
    script = ("import framebuf, sys\nb = bytearray(1024)\n"
              "f = framebuf.FrameBuffer(b, 128, 64, framebuf.MONO_VLSB)\n"
              f"for i, t in enumerate({lines!r}):\n    f.text(t, 0, i * 8, 1)\n"
              "sys.stdout.write(''.join('%02x' % x for x in b))\n")  # fmt: skip
    out = subprocess.run([micropython_path(), "-c", script], capture_output=True, text=True,
                         timeout=30, check=True)  # fmt: skip
    return bytes.fromhex(out.stdout)


def wait_file(path: Path, wanted, what: str, node: Node, timeout: float = 15) -> None:
    """Waits until wanted(path's bytes) holds, checked at each message the node sends."""
    seen = [b""]

    def check(_message) -> bool:
        seen[0] = path.read_bytes() if path.exists() else b""
        return wanted(seen[0])

    try:
        node.obs.wait_message("#", check, timeout)
    except AssertionError:
        raise AssertionError(f"{what}: {seen[0][:200]!r}") from None


def test_ssd1306_frame_is_the_framebuf_rendering_of_the_labelled_values(node):
    want = framebuf_frame(SCREEN)
    wait_file(node.folder / "screens" / "i2c-60.bin", lambda b: b == want + b"\x01",
              "the OLED's RAM and on flag", node)  # fmt: skip


def test_lcd1602_shows_the_labelled_values(node):
    want = "\n".join(line.ljust(16) for line in SCREEN).encode()
    wait_file(node.folder / "screens" / "i2c-39.txt", lambda b: b == want, "the LCD", node)


def test_absent_display_is_logged_once_and_the_node_runs_on(node):
    log = f"home/log/error/{node.device_id}"
    node.obs.wait_message(log, lambda m: b"[gone] display at 61 does not answer" in m.payload,
                          timeout=15)  # fmt: skip
    mark = node.mark
    node.obs.wait_messages(node.topic("air"), 3, timeout=15, after=mark)  # 3 more refreshes
    assert node.obs.count(log, lambda m: b"[gone] display" in m.payload) == 1


def test_climate_mode_and_target_set_over_mqtt_survive_a_restart(node):
    obs = node.obs
    obs.wait_message(node.topic("climate/action"), b"off", timeout=15)  # mode off at first
    obs.publish(node.topic("climate/target/set"), "30", qos=1)
    obs.wait_message(node.topic("climate/target"), b"30.0", timeout=10)
    mark = node.mark
    obs.publish(node.topic("climate/mode/set"), "heat", qos=1)
    obs.wait_message(node.topic("climate/action"), b"heating", timeout=10, after=mark)  # 25 < 30
    obs.wait_message(node.topic("heater"), b"ON", timeout=10, after=mark)
    node.proc.stop()
    mark = node.mark
    node.start()  # its config says mode off, target 21: only the restored settings heat
    obs.wait_message(node.topic("climate/action"), b"heating", timeout=15, after=mark)
    obs.publish(node.topic("climate/target/set"), "20", qos=1)  # 25 > 20.5: off again
    obs.wait_message(node.topic("climate/action"), b"idle", timeout=10, after=mark)
    obs.wait_message(node.topic("heater"), b"OFF", timeout=10, after=mark)
