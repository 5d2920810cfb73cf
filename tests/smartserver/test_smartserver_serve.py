"""`smartserver serve` end to end: a real mosquitto, the real server process, nodes simulated
by paho clients speaking the node's protocol (docs/smartserver.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal

import pytest
from harness import poll_until
from smartserver_helpers import GOOD, SECRET, run_cli

from pysmartnode.utils.canonical import dumps as canonical


def _answer(obs, after=0, timeout=15):
    msg = obs.wait_message("home/login/node1", timeout=timeout, after=after)
    data = json.loads(msg.payload)
    text = msg.payload[len(b'{"body":') : -74]
    sig = hmac.new(SECRET.encode(), text, hashlib.sha256).hexdigest()
    assert data["sig"] == sig, "not signed with the device's secret"
    assert text == canonical(data["body"]).encode()
    return msg, data["body"]


def test_login_is_answered_with_a_signed_config_newer_than_the_nodes_counter(
    mosquitto, observer, config_folder, start_server
):
    start_server(mosquitto, config_folder)
    obs = observer(mosquitto)
    obs.subscribe("home/login/node1")
    req = {"version": "7.0.0.dev0", "platform": "esp32", "counter": 41, "hash": None}
    obs.publish("home/login/node1/set", json.dumps(req), qos=1)
    _, body = _answer(obs)
    assert body["kind"] == "config" and body["id"] == "node1" and body["v"] == 1
    assert body["counter"] == 42  # past the counter the node reported: never a replay
    assert body["order"] == ["living_temp", "fan"]  # the file's order
    assert body["components"]["fan"]["constructor_args"] == {
        "pin": 5,
        "sensor": {"ref": "living_temp"},
    }
    expected_hash = hashlib.sha256(
        canonical({"components": body["components"], "order": body["order"]}).encode()
    ).hexdigest()
    assert body["hash"] == expected_hash
    n = obs.mark()
    obs.publish("home/login/node1/set", json.dumps(dict(req, counter=0)), qos=1)
    _, again = _answer(obs, after=n)
    assert again["counter"] == 43  # the server's own counter only grows


def test_log_lines_are_stored_and_searchable(mosquitto, observer, config_folder, start_server):
    server = start_server(mosquitto, config_folder)
    obs = observer(mosquitto)
    for i in range(30):
        obs.publish(f"home/log/info/node{i % 3}", f"[sensor{i}] reading {i} ok", qos=1)
    obs.publish("home/log/error/node2", "[pump] stuck: no flow for 30 s", qos=1)
    store = str(server.store)

    def logs(*args):
        done = run_cli("logs", "--store", store, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    poll_until(lambda: len(logs("-n", "100")) >= 31, 15, "31 log lines stored")
    assert len(logs("-n", "100")) == 31, logs("-n", "100")
    found = logs("--grep", "no flow")
    assert len(found) == 1 and "node2 error: [pump] stuck: no flow for 30 s" in found[0]
    assert len(logs("--device", "node1")) == 10
    assert len(logs("--level", "error")) == 1
    assert len(logs("--grep", "reading 2")) == 11  # 2 and 20..29
    assert len(logs("--grep", "reading 7 ok")) == 1
    assert logs("--device", "node0", "--grep", "reading 7 ok") == []  # 7 came from node1
    assert logs("--grep", "100%") == []  # LIKE wildcards in the search are plain text
    # the last error of the node is in the fleet table
    poll_until(lambda: server.status()["node2"]["last_error"], 10, "node2's last error")
    assert server.status()["node2"]["last_error"] == "[pump] stuck: no flow for 30 s"


def test_a_node_whose_will_fires_is_lost_and_one_that_stops_cleanly_is_offline(
    mosquitto, config_folder, start_server, fake_node
):
    server = start_server(mosquitto, config_folder)
    crashing = fake_node(mosquitto, "node1")
    stopping = fake_node(mosquitto, "node9")
    poll_until(
        lambda: all(
            server.status().get(d, {}).get("availability") == "online" for d in ("node1", "node9")
        ),
        15,
        "both online",
    )
    row = server.status()["node1"]
    assert (row["version"], row["platform"], row["uptime"], row["ram_free"], row["ip"]) == (
        "7.0.0.dev0",
        "unix",
        3725,
        41200,
        "10.0.0.7",
    )
    assert row["reset_reason"] == "watchdog"
    crashing.kill()  # the broker publishes its will
    stopping.send_signal(signal.SIGTERM)
    stopping.wait_line("stopped", timeout=10)
    poll_until(lambda: server.status()["node1"]["availability"] == "lost", 15, "node1 lost")
    poll_until(lambda: server.status()["node9"]["availability"] == "offline", 15, "node9 offline")


def test_garbage_on_every_topic_is_dropped_and_the_server_runs_on(
    mosquitto, observer, config_folder, start_server
):
    server = start_server(mosquitto, config_folder)
    obs = observer(mosquitto)
    obs.subscribe("home/login/node1")
    junk = [
        b"",
        b"\x00\xff\xfe garbage",
        b"{",
        b"[]",
        b"null",
        b'{"counter": "x"}',
        b"x" * 200_000,
        "\udcff".encode("utf-8", "surrogatepass"),
        b'{"uptime": 1e999}',
        b'{"version": {"nested": [1, 2]}, "uptime": "long", "ram_free": true}',
    ]
    topics = [
        "home/login/node1/set",
        "home/login//set",
        "home/login/bad id/set",
        "home/log/info/node1",
        "home/log/nolevel/node1",
        "home/log/info/bad id",
        "home/node1/available",
        "home/node1/status",
        "home/node1/config",
        "home/login/node1/set/extra",
        "home/smartserver/available",
    ]
    for topic in topics:
        for payload in junk:
            obs.publish(topic, payload, qos=0)
    obs.publish("home/node1/status", b"[1,2,3]", retain=True)  # retained garbage, seen again
    obs.publish("home/login/node2/set", b'[612, "esp8266", 1.5]')  # original unsigned protocol
    obs.publish("home/node1/available", "online", qos=1, retain=True)
    server.proc.wait_line("dropped a bad message", timeout=15)
    n = obs.mark()
    obs.publish("home/login/node1/set", json.dumps({"counter": 0}), qos=1)
    _answer(obs, after=n)  # still answers
    assert server.proc.returncode is None
    assert "Traceback" not in server.proc.output()
    assert server.status()["node1"]["availability"] == "online"


def test_a_broker_restart_is_survived(mosquitto, observer, config_folder, start_server):
    server = start_server(mosquitto, config_folder)
    mark = server.proc.mark()
    mosquitto.restart(down_seconds=2)
    server.proc.wait_line("connected to mqtt", timeout=20, after=mark)
    obs = observer(mosquitto)
    obs.subscribe("home/login/node1")
    obs.publish("home/login/node1/set", json.dumps({"counter": 0}), qos=1)
    _answer(obs)


def test_a_changed_valid_file_is_pushed_and_an_invalid_one_never_sent(
    mosquitto, observer, config_folder, start_server, fake_node
):
    server = start_server(mosquitto, config_folder)
    node = fake_node(mosquitto, "node1")
    node.wait_line("got home/login/node1", timeout=15)  # its login answered
    poll_until(lambda: server.status()["node1"]["availability"] == "online", 15, "online")
    obs = observer(mosquitto)
    obs.subscribe("home/login/node1")
    path = config_folder / "living.hjson"
    path.write_text(GOOD.replace("interval: 30", "interval: 15"))
    _, body = _answer(obs)
    assert body["components"]["living_temp"]["constructor_args"]["interval"] == 15
    mark, n = server.proc.mark(), obs.mark()
    path.write_text(GOOD.replace("pin: 4", "pin: 4, colour: 3"))  # Thermo takes no colour
    line = server.proc.wait_line("changed config is invalid and is not sent", after=mark)
    server.proc.wait_line("'colour' is not accepted", after=mark)
    # the invalid file is never sent: not by the watcher, not at a login, not by the web page
    obs.publish("home/login/node1/set", json.dumps({"counter": 0}), qos=1)
    server.proc.wait_line("its config file is invalid, not sent", after=line.index)
    assert obs.matching("home/login/node1", after=n) == []
    assert server.status()["node1"]["drift"] == "invalid"


def test_status_shows_the_fleet_table_filtered_with_config_drift(
    mosquitto, observer, config_folder, start_server, fake_node
):
    server = start_server(mosquitto, config_folder)
    obs = observer(mosquitto)
    obs.subscribe("home/login/node1")
    fake_node(mosquitto, "node1")
    fake_node(mosquitto, "node5")  # not in the folder
    _, body = _answer(obs)
    # the node says it runs what it got
    result = {"counter": body["counter"], "hash": body["hash"], "ok": True, "source": "server"}
    obs.publish("home/node1/config", json.dumps(result), qos=1, retain=True)
    poll_until(lambda: server.status()["node1"]["drift"] == "in sync", 10, "in sync")
    args = [
        "-c",
        str(config_folder),
        "--store",
        str(server.store),
        "--allow-package",
        "serverparts.",
    ]

    def table(*extra):
        done = run_cli("status", *args, *extra)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    lines = table()
    assert lines[0].split() == [
        "device",
        "state",
        "version",
        "platform",
        "uptime",
        "ram",
        "ip",
        "reset",
        "last",
        "error",
        "config",
        "push",
    ]
    node1 = next(x for x in lines if x.startswith("node1 (living)"))
    assert node1.split()[2:9] == [
        "online",
        "7.0.0.dev0",
        "unix",
        "1h02m",
        "41200",
        "10.0.0.7",
        "watchdog",
    ]
    assert node1.split()[-3:] == ["in", "sync", "applied"]  # config, last push
    assert next(x for x in lines if x.startswith("node5")).endswith("no config")
    (config_folder / "living.hjson").write_text(GOOD.replace("pin: 4", "pin: 14"))
    poll_until(lambda: server.status()["node1"]["drift"] == "drift", 10, "drift")
    assert [x.split()[0] for x in table("--drift")[1:]] == ["node1", "node5"]
    assert table("living")[1].startswith("node1 (living)") and len(table("living")) == 2
    assert [x.split() for x in table("--state", "lost")] == [lines[0].split()]  # header only
    # the status's config_hash drives drift; null (no config runs) is drift, not "unknown"
    folder_hash = server.status()["node1"]["folder_hash"]
    obs.publish("home/node1/status", json.dumps({"config_hash": folder_hash}), qos=1)
    poll_until(lambda: server.status()["node1"]["drift"] == "in sync", 10, "in sync again")
    obs.publish("home/node1/status", json.dumps({"config_hash": None, "reset_reason": None}), qos=1)
    poll_until(lambda: server.status()["node1"]["drift"] == "drift", 10, "drift: runs none")
    assert server.status()["node1"]["reset_reason"] is None  # it says: nothing recorded


@pytest.mark.parametrize("kind", ["mosquitto_tls", "mosquitto_auth"])
def test_serve_connects_with_tls_or_a_password(
    kind, request, observer, config_folder, start_server
):
    broker = request.getfixturevalue(kind)
    server = start_server(broker, config_folder)
    obs = observer(broker)
    obs.subscribe("home/login/node1")
    obs.publish("home/login/node1/set", json.dumps({"counter": 0}), qos=1)
    _answer(obs)
    assert broker.password is None or broker.password not in server.proc.output()
