"""The node's side (MQTT_RECEIVE_CONFIG = True), a real node process on CPython and the unix
port: config from the real SmartServer, the saved copy when the server is down, a corrupt copy
skipped, and tampered, forged, unsigned, replayed or not allowed configs rejected; a pushed
config applied live or rolled back and reported; the status's config_hash and reset_reason;
`smartserver check` and the node's registry agreeing on references.

Most tests check what the node accepts, saves and reports; the live-apply and reference tests
copy tests/smartserver/serverparts beside the node's config, so its registry builds them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.request

import pytest
from harness import REPO, Proc, poll_until
from smartserver import folder as folders
from smartserver_helpers import HERE, SECRET, attach, run_cli

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


LIVE = """{
  a: {
    package: serverparts.live
    component: Ticker
  }
  %s
}
"""
TICKER = "%s: {\n    package: serverparts.live\n    component: Ticker\n  }"
BROKEN = "broken: {\n    package: serverparts.live\n    component: Broken\n    constructor_args: { pin: 7 }\n  }"


def _write(config_folder, *entries) -> str:
    """Writes living.hjson (node1) with Ticker a and entries; returns the folder's hash."""
    (config_folder / "living.hjson").write_text(LIVE % "\n  ".join(entries))
    dev = folders.load(config_folder, ("serverparts.",)).devices["node1"]
    assert dev.valid, dev.problems
    return dev.hash


def _discovery(obs, predicate, after):
    topic = "homeassistant/device/node1/config"
    return obs.wait_message(topic, lambda m: m.payload and predicate(m.json()["cmps"]), after=after)


def test_a_pushed_config_is_applied_live_and_a_failing_one_rolled_back_and_reported(
    mosquitto, observer, config_folder, start_server, boot
):
    shutil.copytree(HERE / "serverparts", boot.folder / "serverparts")
    (boot.folder / "reset_reason.txt").write_text("watchdog: loop blocked")  # record_reset's file
    hash_a = _write(config_folder, TICKER % "b")
    server = start_server(mosquitto, config_folder)
    obs = observer(mosquitto)
    for topic in ("home/node1/#", "homeassistant/device/node1/config"):
        obs.subscribe(topic)
    node = boot(mosquitto, INTERVAL_SENSOR_PUBLISH=600)
    assert _config(obs)["hash"] == hash_a
    status = obs.wait_message("home/node1/status", lambda m: m.json()["config_hash"] == hash_a)
    assert status.json()["reset_reason"] == "watchdog: loop blocked"
    obs.wait_message("home/node1/b")
    node.wait_line("running")  # the registry's summary: the boot is over

    n = obs.mark()
    hash_b = _write(config_folder, TICKER % "c")  # b goes, c comes: the watcher pushes it
    report = obs.wait_message("home/node1/config", after=n, timeout=20).json()
    assert (report["ok"], report["outcome"], report["hash"]) == (True, "applied", hash_b)
    obs.wait_message("home/node1/c", after=n)  # the new component runs ...
    assert _discovery(obs, lambda c: c.get("b") == {"p": "sensor"}, after=n)  # b removed ...
    assert _discovery(obs, lambda c: "c" in c and "b" not in c, after=n)  # ... then omitted
    obs.wait_message("home/node1/status", lambda m: m.json()["config_hash"] == hash_b, after=n)
    assert node.returncode is None and node.output().count(", id node1") == 1  # no restart
    saved = json.loads((boot.folder / "remote_config.json").read_bytes())
    assert saved["body"]["hash"] == hash_b  # the next start runs it too

    n = obs.mark()
    _write(config_folder, TICKER % "c", BROKEN)  # valid for `check`, fails on the node
    report = obs.wait_message("home/node1/config", after=n, timeout=20)
    r = report.json()
    assert (r["ok"], r["outcome"], r["hash"], r["source"]) == (
        False,
        "rolled back",
        hash_b,
        "server",
    )
    assert "component broken failed: " in r["error"] and "no sensor answers on pin 7" in r["error"]
    for name in ("a", "c"):  # the previous set runs again
        obs.wait_message(f"home/node1/{name}", after=report.index + 1)
    obs.wait_message("home/node1/status", after=n)  # the rolled-back node is back: ...
    assert {m.json()["config_hash"] for m in obs.matching("home/node1/status", after=n)} == {
        hash_b
    }  # ... and says it runs b's config, never c's
    assert json.loads((boot.folder / "remote_config.json").read_bytes())["body"]["hash"] == hash_b
    row = server.status()["node1"]
    assert row["last_push"] == "rolled back: " + r["error"]
    assert (row["running_hash"], row["drift"]) == (hash_b, "drift")
    assert row["reset_reason"] == "watchdog: loop blocked"
    with urllib.request.urlopen(server.url + "/api/devices/node1", timeout=10) as page:
        pushes = json.loads(page.read())["pushes"]
    assert [(p["outcome"], p["hash"]) for p in pushes[:2]] == [
        ("rolled back", folders.load(config_folder, ("serverparts.",)).devices["node1"].hash),
        ("applied", hash_b),
    ]

    # two pushes at once (the web page's button): one apply at a time, the newest wins
    n, mark, last = obs.mark(), node.mark(), r["counter"] + 2
    for _ in range(2):
        req = urllib.request.Request(
            server.url + "/api/devices/node1/push", method="POST", headers={"X-SmartServer": "1"}
        )
        with urllib.request.urlopen(req, timeout=10) as page:
            assert page.status == 200
    report = obs.wait_message("home/node1/config", lambda m: m.json()["counter"] == last, after=n)
    assert report.json()["outcome"] == "rolled back"
    first = obs.wait_message(
        "home/node1/config", lambda m: m.json()["counter"] == last - 1, after=n
    )
    assert first.json()["outcome"] in ("rolled back", "superseded")
    node.wait_line(
        lambda line: "waits for the running apply" in line or "superseded by" in line, after=mark
    )
    assert node.returncode is None


def test_a_push_that_does_not_get_the_node_back_online_in_time_is_rolled_back(
    mosquitto, fault_proxy, observer, boot
):
    ticker = {"package": "serverparts.live", "component": "Ticker"}
    old, new = _body(1, {"a": ticker}), _body(2, {"a": ticker, "c": ticker})
    (boot.folder / "remote_config.json").write_bytes(seal(SECRET, old))
    shutil.copytree(HERE / "serverparts", boot.folder / "serverparts")
    proxy = fault_proxy(mosquitto)
    obs = observer(mosquitto)
    for topic in ("home/node1/#", "homeassistant/device/node1/config"):
        obs.subscribe(topic)
    node = boot(proxy, wait=1, MQTT_CONFIG_APPLY_WAIT=2)
    node.wait_line("using the saved copy")
    obs.wait_message("home/node1/a")
    n, mark = obs.mark(), node.mark()
    proxy.throttle(1)  # the uplink dies: the node hears the push but cannot answer
    obs.publish("home/login/node1", seal(SECRET, new), qos=1)
    line = node.wait_line("not back online (discovery and status) within 2 s", after=mark)
    assert "failed: " in line and "rolling back" in line
    proxy.throttle(0)
    report = obs.wait_message("home/node1/config", lambda m: m.json()["counter"] == 2, timeout=20)
    r = report.json()
    assert (r["ok"], r["outcome"], r["hash"], r["source"]) == (
        False,
        "rolled back",
        old["hash"],
        "saved",
    )
    assert "within 2 s" in r["error"]
    obs.wait_message("home/node1/a", after=report.index + 1)  # the old set runs again
    # what the stalled uplink held back may arrive late; what the node says last is the old set
    status = obs.matching("home/node1/status", after=n)[-1].json()
    assert (status["components"], status["config_hash"]) == (1, old["hash"])
    cmps = obs.matching("homeassistant/device/node1/config", after=n)[-1].json()["cmps"]
    assert "a" in cmps and cmps.get("c", {"p": "sensor"}) == {"p": "sensor"}
    assert json.loads((boot.folder / "remote_config.json").read_bytes())["body"]["counter"] == 1
    assert node.returncode is None


REFS = """{
  temp: {
    package: serverparts.parts
    component: Thermo
    constructor_args: { pin: 4 }
  }
  fan: {
    package: serverparts.parts
    component: Relay
    constructor_args: { pin: 5, sensor: { ref: "temp" } }
  }
  pump: {
    package: serverparts.parts
    component: Relay
    constructor_args: { pin: 6, sensor: { ref: "tank" } }
  }
  loop_a: {
    package: serverparts.parts
    component: Relay
    constructor_args: { pin: 7, sensor: { ref: "loop_b" } }
  }
  loop_b: {
    package: serverparts.parts
    component: Relay
    constructor_args: { pin: 8, sensor: { ref: "loop_a" } }
  }
}
"""


def test_check_and_the_nodes_registry_agree_on_references_and_a_local_config_has_its_hash(
    mosquitto, observer, config_folder, boot
):
    (config_folder / "living.hjson").write_text(REFS)
    done = run_cli("check", "-c", str(config_folder), "--allow-package", "serverparts.")
    assert done.returncode == 1, done.stdout
    errors = [line for line in done.stdout.splitlines() if ": error: " in line]
    assert len(errors) == 2, done.stdout  # the valid reference (fan -> temp) passes
    assert "pump: refers to 'tank', which is not a component" in errors[0]
    assert "cyclic reference: loop_a -> loop_b -> loop_a" in errors[1]

    dev = folders.load(config_folder, ("serverparts.",)).devices["node1"]
    components = {**dev.components, "_order": dev.order}  # the same config, as components.py
    (boot.folder / "components.py").write_text(f"COMPONENTS = {components!r}\n")
    shutil.copytree(HERE / "serverparts", boot.folder / "serverparts")
    obs = observer(mosquitto)
    obs.subscribe("home/node1/status")
    node = boot(mosquitto, MQTT_RECEIVE_CONFIG=False)
    status = obs.wait_message("home/node1/status", timeout=20).json()
    assert (status["components"], status["components_failed"]) == (2, 3)  # temp and fan run
    assert status["config_hash"] == dev.hash  # what `smartserver status` compares (drift)
    assert status["reset_reason"] is None  # nothing recorded, and no board to ask
    out = node.output()
    assert "component pump failed: constructor_args.sensor refers to 'tank'" in out
    assert "component loop_b failed: cyclic reference: loop_a -> loop_b -> loop_a" in out
    assert "component loop_a failed: 'loop_b' failed to load: cyclic reference: loop_a" in out
    assert "component fan failed" not in out and "component temp failed" not in out
