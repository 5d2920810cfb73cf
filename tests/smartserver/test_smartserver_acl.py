"""The mosquitto ACL of docs/smartserver.md, enforced by a real mosquitto: a node writes only
its own subtree, and reads only its own topics and the server's answers to it."""

from __future__ import annotations

import secrets
import subprocess

from harness import REPO, poll_until

ACL = REPO / "tools" / "smartserver" / "mosquitto.acl"


def test_the_documented_acl_is_the_shipped_file():
    assert ACL.read_text() in (REPO / "docs" / "smartserver.md").read_text()


def test_a_node_writes_only_its_own_subtree_under_the_acl(make_broker, observer):
    broker = make_broker("mosquitto", auth=True, extra_config=f"acl_file {ACL}", start=False)
    passwords = {
        u: secrets.token_urlsafe(9) for u in ("smartserver", "homeassistant", "node1", "node2")
    }
    for user, password in passwords.items():
        subprocess.run(
            ["mosquitto_passwd", "-b", str(broker.workdir / "passwords"), user, password],
            check=True,
            timeout=30,
        )
    broker.start()
    server = observer(broker, user="smartserver", password=passwords["smartserver"])
    server.subscribe("home/#")
    hass = observer(broker, user="homeassistant", password=passwords["homeassistant"])
    hass.subscribe("homeassistant/#")
    node1 = observer(broker, user="node1", password=passwords["node1"])
    node1.subscribe("home/#")  # granted only where the ACL lets it read
    forbidden = [
        "home/node2/available",  # another node's availability
        "home/node2/pump/set",  # another node's command
        "home/log/error/node2",  # logs in another node's name
        "home/login/node2/set",  # a login request in its name
        "home/login/node1",  # the server's answer to itself
        "home/login/node2",  # the server's answer to another node
        "homeassistant/device/node2/config",  # another node's discovery
    ]
    allowed = [
        "home/node1/available",
        "home/node1/status",
        "home/log/info/node1",
        "home/login/node1/set",
        "homeassistant/device/node1/config",
    ]
    for topic in forbidden + allowed:
        node1.publish(topic, "from node1", qos=1)
    for topic in allowed:
        (hass if topic.startswith("homeassistant") else server).wait_message(
            topic, b"from node1", timeout=10
        )
    seen = server.matching("#", b"from node1") + hass.matching("#", b"from node1")
    assert [m.topic for m in seen] == allowed
    # reading: what the server sends node2 never reaches node1; its own answer does
    for topic in ("home/login/node2", "home/node2/pump/set", "home/login/node1"):
        server.publish(topic, "from server", qos=1)
    node1.wait_message("home/login/node1", b"from server", timeout=10)
    poll_until(lambda: server.count("home/login/node1", b"from server") == 1, 5, "echo")
    assert [m.topic for m in node1.matching("#", b"from server")] == ["home/login/node1"]
