"""The node's side (MQTT_RECEIVE_CONFIG = True), a real node process on CPython and the unix
port: config from the real SmartServer, the saved copy when the server is down, a corrupt copy
skipped, and tampered, forged, unsigned, replayed or not allowed configs rejected.

The registry (pysmartnode.utils.registry) that builds the components is not part of this tree
yet: these tests check what the node accepts, saves and reports on ./config, not what it builds.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request

import pytest
from harness import REPO, Proc, poll_until
from smartserver_helpers import SECRET, attach

from pysmartnode.utils.canonical import dumps as canonical
from pysmartnode.utils.signing import seal

ALLOW = "pysmartnode.components.,serverparts."
COMPONENTS = {
    "living_temp": {
        "package": "serverparts.parts",
        "component": "Thermo",
        "constructor_args": {"pin": 4},
    }
}


def _body(counter, components=COMPONENTS, device="node1"):
    order = list(components)
    digest = hashlib.sha256(canonical({"components": components, "order": order}).encode())
    return {
        "v": 1,
        "kind": "config",
        "id": device,
        "counter": counter,
        "order": order,
        "components": components,
        "hash": digest.hexdigest(),
    }


@pytest.fixture
def boot(request, tmp_path, runtime):
    """boot(broker, wait=10, **options) -> Proc: a node "node1" in tmp_path/node."""
    procs: list[Proc] = []
    folder = tmp_path / "node"
    folder.mkdir()

    def start(broker, wait=10, **options) -> Proc:
        settings = {
            "DEVICE_NAME": "node1",
            "MQTT_HOST": broker.host,
            "MQTT_PORT": broker.port,
            "MQTT_KEEPALIVE": 10,
            "RTC_SYNC_ACTIVE": False,
            "WATCHDOG_TIMEOUT": 30,
            "MQTT_RECEIVE_CONFIG": True,
            "MQTT_CONFIG_SECRET": SECRET,
            "MQTT_CONFIG_WAIT": wait,
            "MQTT_CONFIG_ALLOW": ALLOW,
            **options,
        }
        (folder / "config.py").write_text("".join(f"{k} = {v!r}\n" for k, v in settings.items()))
        proc = Proc(runtime, REPO / "main.py", "--config", str(folder / "config.py"))
        procs.append(proc)
        attach(request, f"node {runtime} #{len(procs)} output", proc.output)
        return proc

    start.folder = folder
    yield start
    for proc in procs:
        proc.stop()


def _config(obs, after=0, timeout=20):
    return obs.wait_message("home/node1/config", timeout=timeout, after=after).json()


def test_the_node_boots_with_the_servers_config_and_from_the_saved_copy_when_it_is_down(
    mosquitto, observer, config_folder, start_server, boot
):
    server = start_server(mosquitto, config_folder)
    obs = observer(mosquitto)
    obs.subscribe("home/node1/config")
    node = boot(mosquitto)
    report = _config(obs)
    folder_hash = server.status()["node1"]["folder_hash"]
    assert (report["source"], report["ok"], report["hash"]) == ("server", True, folder_hash)
    node.wait_line("from the server (counter 1)")
    saved = (boot.folder / "remote_config.json").read_bytes()
    assert json.loads(saved)["body"]["hash"] == folder_hash  # the signed message, as received
    poll_until(lambda: server.status()["node1"]["drift"] == "in sync", 10, "in sync")
    node.stop()
    server.proc.stop()  # the server is down: the saved copy it is
    n = obs.mark()
    node = boot(mosquitto, wait=2)
    report = _config(obs, after=n)
    assert (report["source"], report["hash"], report["counter"]) == ("saved", folder_hash, 1)
    node.wait_line("using the saved copy")


def test_a_corrupt_saved_copy_is_skipped_with_a_clear_log(mosquitto, observer, boot):
    (boot.folder / "remote_config.json").write_bytes(
        seal(SECRET, _body(3)).replace(b'"pin":4', b'"pin":5')  # a flipped byte on flash
    )
    obs = observer(mosquitto)
    obs.subscribe("home/node1/config")
    node = boot(mosquitto, wait=1)
    node.wait_line("saved config")
    assert "skipped, corrupt or not ours: bad signature" in node.output()
    report = _config(obs)
    assert (report["source"], report["ok"], report["hash"]) == ("none", True, None)
    node.wait_line("no components: no server config, no saved copy, no components.py")


def test_tampered_forged_unsigned_replayed_and_not_allowed_configs_are_rejected(
    mosquitto, observer, boot
):
    (boot.folder / "remote_config.json").write_bytes(seal(SECRET, _body(5)))  # accepted before
    obs = observer(mosquitto)
    obs.subscribe("home/node1/config")
    obs.subscribe("home/login/node1/set")
    node = boot(mosquitto, wait=30)
    request = obs.wait_message("home/login/node1/set", timeout=20).json()
    assert request["counter"] == 5 and request["hash"] == _body(5)["hash"]
    evil = {"os": {"package": "os", "component": "system", "constructor_args": {"command": "x"}}}
    attacks = [
        (seal(SECRET, _body(6)).replace(b'"pin":4', b'"pin":9'), "bad signature"),
        (seal("not the secret", _body(6)), "bad signature"),
        (json.dumps(_body(6)).encode(), "not a signed message"),
        (seal(SECRET, _body(5)), "replayed or stale message"),
        (seal(SECRET, _body(2)), "replayed or stale message"),
        (seal(SECRET, _body(6, device="node2")), "signed for another device"),
        (seal(SECRET, _body(6, evil)), "os: package os is not in MQTT_CONFIG_ALLOW"),
    ]
    for payload, why in attacks:
        mark = node.mark()
        obs.publish("home/login/node1", payload, qos=1)
        node.wait_line(f"rejected: {why}", after=mark)
    obs.publish("home/login/node1", seal(SECRET, _body(6)), qos=1)  # the real one still counts
    report = _config(obs)
    assert (report["source"], report["counter"]) == ("server", 6)
    assert json.loads((boot.folder / "remote_config.json").read_bytes())["body"]["counter"] == 6


def test_the_restart_button_restarts_the_node_once_and_a_replay_is_rejected(
    mosquitto, observer, config_folder, start_server, boot
):
    server = start_server(mosquitto, config_folder)
    obs = observer(mosquitto)
    obs.subscribe("home/login/node1")
    obs.subscribe("home/node1/config")
    node = boot(mosquitto)
    _config(obs)
    req = urllib.request.Request(
        server.url + "/api/devices/node1/restart", method="POST", headers={"X-SmartServer": "1"}
    )
    n = obs.mark()
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
    command = obs.wait_message("home/login/node1", after=n)
    assert node.wait(timeout=20) == 1  # ended for its supervisor to start it again
    assert "restart requested by the SmartServer" in node.output()
    poll_until(lambda: server.status()["node1"]["availability"] == "offline", 10, "offline")
    server.proc.stop()  # the server is down now: the saved config (an older counter) it is
    node = boot(mosquitto, wait=2)
    node.wait_line("last reset: restart requested by the SmartServer")
    node.wait_line("using the saved copy")
    mark = node.mark()
    obs.publish("home/login/node1", command.payload, qos=1)  # the same restart, replayed
    node.wait_line("rejected: replayed or stale message", after=mark)
    assert node.returncode is None
