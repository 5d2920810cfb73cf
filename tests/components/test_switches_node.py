"""switches/ in one MicroPython unix-port node against mosquitto, seen from outside: the fake
`machine` appends every pin write to a file (FAKE_MACHINE_LOG) and raises for the pins listed in
another (FAKE_MACHINE_FAULTS), so the tests see the levels the relay driver would get."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_hardware import node_env, node_folder
from harness import REPO, Broker, Observer, Proc, micropython_path
from harness.runtimes import run_py

COMPONENTS = {
    "relay": {
        "package": ".switches.gpio",
        "component": "GPIO",
        "constructor_args": {"pin": 5, "active_low": True},
    },
    "led": {
        "package": ".switches.led",
        "component": "LED",
        "constructor_args": {"pin": 2, "brightness": 40},
    },
    "pump": {
        "package": ".switches.dosing_pump",
        "component": "DosingPump",
        "constructor_args": {"pin": 13, "flow": 10, "max_on_time": 3},
    },
    "button": {
        "package": ".machine.button",
        "component": "Button",
        "constructor_args": {"pin": 0, "long_ms": 3000, "double_ms": 0, "short": {"ref": "relay"}},
    },
    "button_poll": {  # the same on a polled pin, where "button" takes the edge interrupt
        "package": ".machine.button",
        "component": "Button",
        "constructor_args": {"pin": 16, "long_ms": 3000, "double_ms": 0, "irq": False},
    },
    "buzzer": {
        "package": ".switches.buzzer",
        "component": "Buzzer",
        "constructor_args": {"pin": 15, "pattern": [0.05, 0.05, 0.05]},
    },
    "shelf": {
        "package": ".switches.neopixel",
        "component": "NeoPixel",
        "constructor_args": {"pin": 4, "count": 3, "brightness": 100},
    },
    "sleep": {
        "package": ".machine.deepsleep",
        "component": "DeepSleep",
        "constructor_args": {"sleep": 60, "awake": 1},
    },
    "_order": ["relay", "led", "pump", "button", "button_poll", "buzzer", "shelf", "sleep"],
}


@dataclass
class Node:
    proc: Proc
    obs: Observer
    device_id: str
    pins: Path  # FAKE_MACHINE_LOG
    faults: Path  # FAKE_MACHINE_FAULTS
    inputs: Path  # FAKE_MACHINE_INPUTS
    broker: Broker

    def topic(self, sub: str) -> str:
        return f"home/{self.device_id}/{sub}"

    def log(self, level: str) -> str:
        return f"home/log/{level}/{self.device_id}"

    def writes(self, pin: int) -> list[str]:
        """The pin's writes so far, as "<what> <value>"."""
        lines = self.pins.read_text().splitlines() if self.pins.exists() else []
        return [line.split(" ", 1)[1] for line in lines if line.split(" ", 1)[0] == str(pin)]

    def command(self, sub: str, payload: bytes | str, state: str, expect: bytes | str) -> int:
        mark = self.obs.mark()
        self.obs.publish(self.topic(sub), payload, qos=1)
        self.obs.wait_message(self.topic(state), expect, timeout=10, after=mark)
        return mark


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[Node]:
    micropython_path()
    broker = Broker("mosquitto", tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    folder = tmp_path_factory.mktemp("node")
    device_id = node_folder(folder, broker, COMPONENTS, "s")
    pins, faults, inputs = folder / "pins.log", folder / "faults", folder / "inputs"
    inputs.write_text("0 1\n16 1\n")  # the buttons, released
    obs = Observer(broker)
    obs.subscribe("#")
    # a dose left retained on the command topic must not run at start
    obs.publish(f"home/{device_id}/pump/dose/set", b"5", qos=1, retain=True)
    env = node_env(
        FAKE_MACHINE_LOG=str(pins), FAKE_MACHINE_FAULTS=str(faults), FAKE_MACHINE_INPUTS=str(inputs)
    )
    proc = run_py("micropython", REPO / "main.py", "--config", str(folder / "config.py"),
                  cwd=folder, env=env)  # fmt: skip
    try:
        obs.wait_message(f"home/{device_id}/available", b"online", timeout=20)
        yield Node(proc, obs, device_id, pins, faults, inputs, broker)
    finally:
        proc.stop()
        obs.close()
        broker.stop()


def test_active_low_relay_is_off_from_the_first_instruction(node):
    node.obs.wait_message(
        node.log("warn"), lambda m: b"[pump] ignored a retained dose" in m.payload, timeout=10
    )  # start-up is done
    assert node.writes(5)[:1] == ["out 1"]
    assert "level 0" not in node.writes(5)  # nothing ever pulled it to on
    node.command("relay/set", "ON", "relay", b"ON")
    assert node.writes(5)[-1] == "level 0"
    node.command("relay/set", "OFF", "relay", b"OFF")
    assert node.writes(5)[-1] == "level 1"


def test_a_retained_dose_is_not_run_at_start(node):
    node.obs.wait_message(
        node.log("warn"), lambda m: b"[pump] ignored a retained dose" in m.payload, timeout=10
    )
    assert "level 1" not in node.writes(13)


def test_a_failing_pin_write_is_logged_and_the_state_stays(node):
    node.command("relay/set", "OFF", "relay", b"OFF")
    node.faults.write_text("5\n")
    try:
        mark = node.obs.mark()
        node.obs.publish(node.topic("relay/set"), "ON", qos=1)
        node.obs.wait_message(
            node.log("error"),
            lambda m: m.payload.startswith(b"[relay] turning on failed: OSError"),
            timeout=10,
            after=mark,
        )
        assert node.obs.count(node.topic("relay"), b"ON", after=mark) == 0
    finally:
        node.faults.unlink()
    node.command("relay/set", "ON", "relay", b"ON")  # and it works again
    assert node.proc.returncode is None


def test_led_brightness_over_mqtt_sets_the_duty_and_is_retained(node):
    mark = node.command("led/brightness/set", "50", "led", b"ON")
    node.obs.wait_message(node.topic("led/brightness"), b"50", timeout=10, after=mark)
    assert node.writes(2)[-1] == "duty 32767"
    node.command("led/set", "OFF", "led", b"OFF")
    assert node.writes(2)[-1] == "duty 0"
    fresh = Observer(node.broker)
    try:
        fresh.subscribe(node.topic("led/brightness"))
        assert fresh.wait_message(node.topic("led/brightness"), lambda m: m.retain).payload == b"50"
    finally:
        fresh.close()


@pytest.mark.parametrize("payload", [b"150", b"dim", b"-3"])
def test_a_bad_brightness_is_logged_and_changes_nothing(node, payload):
    mark = node.obs.mark()
    before = node.writes(2)
    node.obs.publish(node.topic("led/brightness/set"), payload, qos=1)
    node.obs.wait_message(
        node.log("warn"), lambda m: m.payload.startswith(b"[led] ignored brightness"),
        timeout=10, after=mark,
    )  # fmt: skip
    assert node.writes(2) == before


def test_a_dose_over_mqtt_runs_the_pump_and_shows_it(node):
    mark = node.command("pump/dose/set", "5", "pump", b"ON")  # 0.5 s at 10 ml/s
    node.obs.wait_message(node.topic("pump/dose"), b"5.0", timeout=10, after=mark)
    node.obs.wait_message(node.topic("pump"), b"OFF", timeout=10, after=mark)
    node.obs.wait_message(node.topic("pump/dose"), b"0", timeout=10, after=mark)
    node.obs.wait_message(node.log("info"), b"[pump] dosed 5.0 ml", timeout=10, after=mark)
    assert node.writes(13)[-2:] == ["level 1", "level 0"]


@pytest.mark.parametrize("payload", [b"31", b"nan", b"lots"])
def test_a_dose_beyond_the_fail_safe_or_garbage_never_runs(node, payload):
    mark = node.obs.mark()
    before = node.writes(13)
    node.obs.publish(node.topic("pump/dose/set"), payload, qos=1)
    node.obs.wait_message(
        node.log("+"),
        lambda m: m.payload.startswith((b"[pump] dose refused", b"[pump] ignored dose")),
        timeout=10, after=mark,
    )  # fmt: skip
    assert node.writes(13) == before
    assert node.obs.count(node.topic("pump"), b"ON", after=mark) == 0


def test_a_button_press_toggles_the_relay_and_is_an_event(node):
    before = node.obs.matching(node.topic("relay"))
    want = b"OFF" if before and before[-1].payload == b"ON" else b"ON"
    mark = node.obs.mark()
    with node.inputs.open("a") as f:
        f.write("0 0\n")  # pressed (active low)
    time.sleep(0.3)  # held, well past the debounce and far from a long press
    with node.inputs.open("a") as f:
        f.write("0 1\n")
    event = node.obs.wait_message(node.topic("button"), timeout=10, after=mark)
    assert event.json() == {"event_type": "short"} and not event.retain
    node.obs.wait_message(node.topic("relay"), want, timeout=10, after=mark)


def press(node: Node, pin: int, bounces: int = 0) -> None:
    """A press of 0.3 s on pin (active low); each edge chatters bounces times, 2 ms apart."""
    for level in (0, 1):
        for _ in range(bounces):
            for chatter in (level, 1 - level):
                with node.inputs.open("a") as f:
                    f.write(f"{pin} {chatter}\n")
                time.sleep(0.002)
        with node.inputs.open("a") as f:
            f.write(f"{pin} {level}\n")
        time.sleep(0.3)  # held (or left), well past the debounce and far from a long press


@pytest.mark.parametrize(("key", "pin"), [("button", 0), ("button_poll", 16)], ids=["irq", "poll"])
def test_a_bouncing_press_is_one_event(node, key, pin):
    mark = node.obs.mark()
    press(node, pin, bounces=4)
    first = node.obs.wait_message(node.topic(key), timeout=10, after=mark)
    press(node, pin)  # a clean press: its event closes the count
    node.obs.wait_messages(node.topic(key), 2, timeout=10, after=mark)
    events = node.obs.matching(node.topic(key), after=mark)
    assert [m.json() for m in events] == [{"event_type": "short"}] * 2, first


def test_the_button_takes_the_edge_interrupt_and_the_other_polls(node):
    assert "irq 3" in node.writes(0)  # both edges (IRQ_FALLING | IRQ_RISING)
    assert not any(w.startswith("irq") for w in node.writes(16))


def test_the_interrupt_button_reads_its_pin_only_after_edges(node):
    reads = lambda: sum(w.startswith("read ") for w in node.writes(0))  # noqa: E731
    before = reads()
    time.sleep(0.5)  # no edge: a polling button would read the pin 50 times
    assert reads() == before
    mark = node.obs.mark()
    press(node, 0)
    node.obs.wait_message(node.topic("button"), timeout=10, after=mark)
    assert reads() > before


def test_a_beep_over_mqtt_plays_the_pattern(node):
    node.obs.publish(node.topic("buzzer/beep/set"), b"PRESS", qos=1)
    want = ["duty 32768", "duty 0", "duty 32768", "duty 0"]  # the pattern, then silence
    deadline = time.monotonic() + 10
    while node.writes(15)[-4:] != want:
        assert time.monotonic() < deadline, node.writes(15)
        time.sleep(0.05)


def test_a_colour_over_mqtt_lights_the_strip_and_is_retained(node):
    mark = node.command("shelf/rgb/set", "0,64,255", "shelf", b"ON")
    node.obs.wait_message(node.topic("shelf/rgb"), b"0,64,255", timeout=10, after=mark)
    assert node.writes(4)[0] == "out 0" and node.writes(4)[1] == "pixels 0,0,0;0,0,0;0,0,0"
    assert node.writes(4)[-1] == "pixels 0,64,255;0,64,255;0,64,255"


def test_deep_sleep_comes_after_awake_seconds_and_the_log_went_out(node):
    node.obs.wait_message(node.log("info"), b"[sleep] going to deep sleep for 60 s", timeout=10)
    node.obs.wait_message(node.log("warn"), b"[sleep] deep sleep returned without a reset: "
                          b"staying awake", timeout=10)  # fmt: skip
    assert node.writes("sleep") == ["deepsleep 60000"]


# -- a remote switch: a second node (CPython) switching the relay of the first ---------------


@pytest.fixture(scope="module")
def remote_node(node, tmp_path_factory) -> Iterator[Node]:
    folder = tmp_path_factory.mktemp("remote")
    device_id = f"r{secrets.token_hex(3)}"
    components = {
        "remote": {
            "package": ".switches.remote",
            "component": "RemoteSwitch",
            "constructor_args": {"topic": node.topic("relay")},
        },
        "ghost": {
            "package": ".switches.remote",
            "component": "RemoteSwitch",
            "constructor_args": {"topic": "home/ghost/pump", "timeout": 1},
        },
    }
    (folder / "config.py").write_text(
        f"DEVICE_NAME = {device_id!r}\nMQTT_HOST = {node.broker.host!r}\n"
        f"MQTT_PORT = {node.broker.port}\nMQTT_KEEPALIVE = 10\nRTC_SYNC_ACTIVE = False\n"
    )
    (folder / "components.py").write_text(f"COMPONENTS = {components!r}\n")
    proc = run_py("cpython", REPO / "main.py", "--config", str(folder / "config.py"), cwd=folder)
    try:
        node.obs.wait_message(f"home/{device_id}/available", b"online", timeout=20)
        yield Node(proc, node.obs, device_id, node.pins, node.faults, node.inputs, node.broker)
    finally:
        proc.stop()


def test_a_remote_switch_commands_the_other_node_and_mirrors_its_state(node, remote_node):
    node.command("relay/set", "OFF", "relay", b"OFF")
    mark = remote_node.command("remote/set", "ON", "remote", b"ON")  # via the remote switch
    node.obs.wait_message(node.topic("relay"), b"ON", timeout=10, after=mark)
    assert node.writes(5)[-1] == "level 0"  # the relay, active low, is on
    node.command("relay/set", "OFF", "relay", b"OFF")  # switched at its own node
    remote_node.obs.wait_message(remote_node.topic("remote"), b"OFF", timeout=10, after=mark)


def test_a_remote_switch_without_an_answer_logs_it(remote_node):
    mark = remote_node.obs.mark()
    remote_node.obs.publish(remote_node.topic("ghost/set"), b"ON", qos=1)
    remote_node.obs.wait_message(
        remote_node.log("error"), b"[ghost] no answer from home/ghost/pump within 1 s",
        timeout=10, after=mark,
    )  # fmt: skip
    assert remote_node.obs.count(remote_node.topic("ghost"), after=mark) == 0


def test_a_remote_switch_refuses_commands_while_its_node_is_offline(node, remote_node):
    """Last: it stops the first node."""
    node.proc.stop()  # killed: the broker sends its will at once
    mark = remote_node.obs.mark()
    remote_node.obs.wait_message(node.topic("available"), b"offline", timeout=10)
    remote_node.obs.wait_message(
        remote_node.log("warn"), lambda m: m.payload.endswith(b"is offline: commands are refused"),
        timeout=10,
    )  # fmt: skip
    remote_node.obs.publish(remote_node.topic("remote/set"), b"ON", qos=1)
    remote_node.obs.wait_message(
        remote_node.log("error"),
        f"[remote] not turned ON: {node.topic('available')} is offline".encode(),
        timeout=10, after=mark,
    )  # fmt: skip
    assert remote_node.obs.count(node.topic("relay/set"), after=mark) == 0
