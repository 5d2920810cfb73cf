"""The README's first command: `python main.py` with no config.py runs a demo with its own broker."""

import re
import signal
import socket
from types import SimpleNamespace

import pytest
from harness import REPO

pytestmark = pytest.mark.xdist_group("demo-ports")  # the demo takes 1883 and 8080 when free

BROKER_LINE = re.compile(r"embedded MQTT broker on 127\.0\.0\.1:(\d+)")


def embedded_broker(proc):
    line = proc.wait_line(BROKER_LINE.search, timeout=30)
    return SimpleNamespace(host="127.0.0.1", port=int(BROKER_LINE.search(line)[1]))


@pytest.fixture
def taken_port():
    """A port something else listens on, as 1883 may be on a developer's machine."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.mark.skipif((REPO / "config.py").exists(), reason="a config.py in the repo root")
def test_main_without_config_runs_the_demo_node_on_its_own_broker(run_py, observer, tmp_path, taken_port):  # fmt: skip
    env = {"PYSMARTNODE_MQTT_PORT": str(taken_port)}
    proc = run_py("cpython", REPO / "main.py", env=env, cwd=tmp_path)
    broker = embedded_broker(proc)
    assert broker.port != taken_port
    proc.wait_line("mosquitto_sub -h 127.0.0.1 -p %d -t 'home/#'" % broker.port)
    obs = observer(broker)
    obs.subscribe("home/#")
    obs.wait_message("home/demo/available", b"online")  # retained: seen however late we came
    # The status after connect may have gone out before we subscribed: ask, as the banner says
    mark = obs.mark()
    obs.publish("home/demo/status/set", "now")
    assert obs.wait_message("home/demo/status", after=mark).json()["id"] == "demo"


@pytest.mark.skipif((REPO / "config.py").exists(), reason="a config.py in the repo root")
def test_ctrl_c_stops_the_demo_and_the_broker_sees_offline(run_py, observer, tmp_path):
    proc = run_py("cpython", REPO / "main.py", "--demo", cwd=tmp_path)
    obs = observer(embedded_broker(proc))
    obs.subscribe("home/#")
    obs.wait_message("home/demo/available", b"online")
    proc.send_signal(signal.SIGINT)
    # Live, on the connection it had: a copy of the retained one after a reconnect is no proof
    assert not obs.wait_message("home/demo/available", b"offline").retain
    assert proc.wait(timeout=15) == 0
    # amqtt's traceback followed a shutdown that hung for 5 s (demo._passed_on)
    assert "Traceback" not in proc.output()


def test_mqtt_host_embedded_selects_the_embedded_broker(start_node, observer):
    node = start_node("cpython", None, MQTT_HOST="embedded", MQTT_PORT=1883)
    obs = observer(embedded_broker(node.proc))
    obs.subscribe("home/#")
    assert obs.wait_message(node.topic("available"), b"online").payload == b"online"


def test_embedded_broker_on_micropython_is_a_config_error(start_node):
    node = start_node("micropython", None, MQTT_HOST="embedded")
    assert node.proc.wait(timeout=20) == 2
    assert "embedded broker needs CPython" in node.proc.output()
