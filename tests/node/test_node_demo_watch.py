"""The demo as a new user meets it: the watcher its banner names, --demo whatever config.py
says, a quick restart on the same port."""

import os
import re
import shutil
import signal
import socket

import pytest
from harness import REPO, Command, free_port, import_roots

pytestmark = pytest.mark.xdist_group("demo-ports")  # the demo takes 1883 and 8080 when free

BROKER_LINE = re.compile(r"embedded MQTT broker on 127\.0\.0\.1:(\d+)")


def broker_port(proc):
    return int(BROKER_LINE.search(proc.wait_line(BROKER_LINE.search, timeout=30))[1])


@pytest.fixture
def commands():
    started = []

    def start(line, **options):
        command = Command(line, **options)
        started.append(command)
        return command

    yield start
    for command in started:
        command.stop()


def test_banner_names_a_watcher_that_shows_the_node_and_asks_for_its_status(run_py, commands, tmp_path):  # fmt: skip
    port = free_port()
    node = run_py("cpython", REPO / "main.py", "--demo", env={"PYSMARTNODE_MQTT_PORT": str(port)}, cwd=tmp_path)  # fmt: skip
    assert broker_port(node) == port
    banner = node.wait_line("tools/watch.py", timeout=10)
    node.wait_line("mosquitto-clients", timeout=10)  # the alternative is named too
    # The command exactly as printed, from where the node was started
    watch = commands(banner.strip(), cwd=tmp_path)
    # Its log is under it too; the line comes once both subscriptions are acknowledged, which
    # may be after the node's first status (its connect hooks run meanwhile)
    watch.wait_line("home/log/+/demo", timeout=20)
    watch.wait_line("home/demo/available online", timeout=20)
    mark = watch.mark()
    watch.send("now\n")
    line = watch.wait_line(lambda text: text.startswith("home/demo/status {"), after=mark, timeout=20)  # fmt: skip
    assert '"id": "demo"' in line


def test_demo_flag_runs_the_demo_whatever_a_copied_config_says(run_py, tmp_path):
    config = tmp_path / "config.py"
    shutil.copy(REPO / "config_example.py", config)
    text = config.read_text().replace('MQTT_HOST = ""', 'MQTT_HOST = "broker.lan"')
    config.write_text(text.replace("DEVICE_NAME = None", 'DEVICE_NAME = "kitchen"'))
    # config.py where the node finds it by itself (beside main.py: on the import path)
    roots = os.pathsep.join([str(tmp_path), *import_roots()])
    env = {"PYTHONPATH": roots, "PYSMARTNODE_MQTT_PORT": str(free_port())}
    node = run_py("cpython", REPO / "main.py", "--demo", env=env, cwd=tmp_path)
    broker_port(node)
    node.wait_line("demo node 'demo' is starting", timeout=10)


def test_quick_restart_of_the_demo_keeps_its_port(run_py, tmp_path):
    # What a stopped demo leaves behind: its side of a closed connection in TIME_WAIT on the
    # port. Made here for sure: a listener on the port that closes an accepted connection first
    port = free_port()
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()
        client.recv(1)  # the close reached the client: the port's side waits in TIME_WAIT
        client.close()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # without address reuse the port looks taken
    env = {"PYSMARTNODE_MQTT_PORT": str(port)}
    node = run_py("cpython", REPO / "main.py", "--demo", env=env, cwd=tmp_path)
    assert broker_port(node) == port
    node.send_signal(signal.SIGINT)
    assert node.wait(timeout=15) == 0
