"""A Ctrl-C or SIGTERM at any moment of start-up or running leaves `offline` with the broker's
subscribers and the exit status 0 (the clean stop publishes it, or the will does)."""

import re
import signal
from types import SimpleNamespace

import pytest
from harness import REPO, micropython_path
from node_helpers import retained

BROKER_LINE = re.compile(r"embedded MQTT broker on 127\.0\.0\.1:(\d+)")


@pytest.mark.xdist_group("demo-ports")  # its broker on 1883 when free
def test_ctrl_c_leaves_offline_with_a_client_of_the_embedded_broker_that_came_during_start_up(
    start_node, observer
):
    # The stop ends the tasks the components started first. It once ended every task started
    # while the components were built: also the embedded broker's side of a client that
    # connected meanwhile, which was then gone before the `offline` (the demo with the system
    # component, 4 runs of 6)
    node = start_node(
        "cpython", None, components="slow_build", MQTT_HOST="embedded", MQTT_PORT=1883
    )
    line = node.proc.wait_line(BROKER_LINE.search, timeout=30)
    node.proc.wait_line("slow_build: waiting for go")
    obs = observer(SimpleNamespace(host="127.0.0.1", port=int(BROKER_LINE.search(line)[1])))
    obs.subscribe("home/#")  # SUBACK: the broker serves this client while the build waits
    (node.folder / "go").touch()
    obs.wait_message(node.topic("available"), b"online", timeout=15)
    mark = obs.mark()
    node.proc.send_signal(signal.SIGINT)
    # Live, on the connection it had: a copy of the retained one after a reconnect is no proof
    offline = obs.wait_message(node.topic("available"), b"offline", after=mark)
    assert not offline.retain
    assert node.proc.wait(timeout=15) == 0


def test_ctrl_c_in_the_moment_the_node_connects_leaves_offline_retained(
    runtime, mosquitto, start_node, observer
):
    # unix port: the Ctrl-C lands in the client's connect, connected but not ready to publish;
    # the stop's `offline` then waits in vain, and a DISCONNECT after it left no will either.
    # CPython: the stop's `offline` went out while the node still subscribed, and the `online`
    # after those subscriptions replaced it
    node = start_node(runtime, mosquitto, components="interrupt_at_connect")
    node.proc.wait_line("interrupt_at_connect: waiting for the signal", timeout=15)
    node.proc.send_signal(signal.SIGINT)
    assert node.proc.wait_after_ctrl_c(timeout=15) == 0, node.proc.output()
    assert retained(observer(mosquitto), node.topic("available")) == b"offline"


@pytest.mark.parametrize(
    "runtime, sig",
    [
        ("cpython", signal.SIGINT),
        ("cpython", signal.SIGTERM),
        ("micropython", signal.SIGINT),  # SIGTERM ends the unix port at once: the will's case
    ],
    ids=["cpython-sigint", "cpython-sigterm", "micropython-sigint"],
)
def test_signal_inside_the_connect_hooks_leaves_offline_retained(
    runtime, sig, mosquitto, start_node, observer
):
    if runtime == "micropython":
        micropython_path()
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_node(runtime, mosquitto, components="hook_waits")
    node.proc.wait_line("hook_waits: in the connect hooks", timeout=15)
    mark = obs.mark()
    node.proc.send_signal(sig)
    assert node.proc.wait_after_ctrl_c(timeout=15) == 0, node.proc.output()
    obs.wait_message(node.topic("available"), b"offline", after=mark)
    assert retained(observer(mosquitto), node.topic("available")) == b"offline"


@pytest.mark.parametrize(
    "runtime, sig",
    [
        ("cpython", signal.SIGINT),
        ("cpython", signal.SIGTERM),
        ("micropython", signal.SIGINT),
    ],
    ids=["cpython-sigint", "cpython-sigterm", "micropython-sigint"],
)
def test_signal_while_the_settings_load_exits_zero_without_a_traceback(
    runtime, sig, run_py, tmp_path
):
    if runtime == "micropython":
        micropython_path()
    config = tmp_path / "config.py"
    config.write_text(
        "import time\nMQTT_HOST = '127.0.0.1'\nprint('config: loading')\ntime.sleep(30)\n"
    )
    proc = run_py(runtime, REPO / "main.py", "--config", str(config), cwd=tmp_path)
    proc.wait_line("config: loading", timeout=15)
    proc.send_signal(sig)
    assert proc.wait(timeout=10) == 0, proc.output()
    assert "Traceback" not in proc.output()
