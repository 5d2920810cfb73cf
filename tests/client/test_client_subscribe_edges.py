"""Subscriptions at the edges: a filter the client can tell is bad never leaves it, and one the
broker answers by closing the link is dropped after max_repubs + 1 deaths instead of being
re-sent on every reconnect for ever (issue 6, Critical 2, the SUBSCRIBE side)."""

from __future__ import annotations

import time

import pytest
from client_app import DriverError

FAST = {"keepalive": 4, "ping_interval": 1, "response_time": 1}
BIG = "big/" + "x" * 2100  # a SUBSCRIBE of it is over the broker's 2000 bytes


@pytest.fixture
def small_packets(make_broker):
    return make_broker("mosquitto", extra_config="max_packet_size 2000")


@pytest.mark.parametrize("clean", [True, False], ids=["clean", "persistent"])
def test_a_subscription_the_broker_rejects_by_disconnecting_is_dropped_and_the_rest_works(
    small_packets, observer, client_app, clean
):
    app = client_app(small_packets, reconnect_max=0.2, clean=clean, clean_init=True, **FAST)
    app.call("connect")
    assert app.call("subscribe", topic="keep/#", qos=1) == 1
    with pytest.raises(DriverError) as err:
        app.call("subscribe", topic=BIG, qos=1, timeout=30)
    assert err.value.name == "MQTTSubscribeError" and "link died" in err.value.text
    # max_repubs (4) + 1 connections died for it, then the next one came up without it
    stats = app.call("status")["stats"]
    assert stats["faults"] == 5 and app.call("status")["connected"], stats
    assert len([line for line in app.logs() if "dropped the subscription" in line]) == 1
    assert app.call("publish_many", topic="after", n=10, qos=1, timeout=30) == [True] * 10
    assert app.call("subscribe", topic="new/x", qos=1) == 1
    obs = observer(small_packets)
    obs.publish("keep/a", "kept", qos=1)  # the subscription made before the poison one
    obs.publish("new/x", "new", qos=1)
    got = {(t, m) for t, m, _ in app.wait_messages(2)}
    assert got == {("keep/a", b"kept"), ("new/x", b"new")}
    assert app.call("status")["stats"]["faults"] == 5


def test_a_subscription_pending_beside_the_poison_one_when_a_link_died_is_not_dropped(
    small_packets, fault_proxy, client_app
):
    proxy = fault_proxy(small_packets)
    app = client_app(proxy, reconnect_max=0.2, **FAST)
    app.call("connect")
    assert app.call("subscribe", topic="keep/#", qos=1) == 1
    proxy.blackhole()  # this link dies with both SUBSCRIBEs unanswered: a death for each
    big = app.start("subscribe", topic=BIG, qos=1)
    also = app.start("subscribe", topic="also/#", qos=1)
    # the next links flow: each suspect goes alone, so only the poison one dies again
    with pytest.raises(DriverError) as err:
        app.result(big, timeout=30)
    assert err.value.name == "MQTTSubscribeError"
    assert app.result(also, timeout=30) == 1
    assert app.call("status")["stats"]["faults"] == 5
    assert len([line for line in app.logs() if "dropped the subscription" in line]) == 1


def test_an_unsubscribe_the_broker_rejects_by_disconnecting_raises_and_the_rest_works(
    small_packets, client_app
):
    app = client_app(small_packets, reconnect_max=0.2, **FAST)
    app.call("connect")
    with pytest.raises(DriverError) as err:
        app.call("unsubscribe", topic=BIG, timeout=30)
    assert err.value.name == "MQTTError" and "UNSUBSCRIBE" in err.value.text
    assert app.call("status")["stats"]["faults"] == 5
    assert app.call("publish_many", topic="after", n=10, qos=1, timeout=30) == [True] * 10


BAD_FILTERS = {
    "utf8": b"bad/\xff".hex(),
    "nul": "nul/\x00",
    "hash-not-last": "a/#/b",
    "hash-in-level": "a/b#",
    "plus-in-level": "a/b+/c",
    "empty": "",
    "too-long": 65536,
}


@pytest.mark.parametrize("op", ["subscribe", "unsubscribe"])
def test_an_invalid_filter_is_a_value_error_before_anything_is_sent(small_packets, client_app, op):
    app = client_app(small_packets, max_packet_size=2000, **FAST)
    app.call("connect")
    # SUBSCRIBE: 3 bytes of fixed header, id, length, filter, QoS; UNSUBSCRIBE: no QoS
    fits = "big/" + "x" * (2000 - 8 - 4 if op == "subscribe" else 2000 - 7 - 4)
    for name, f in list(BAD_FILTERS.items()) + [("over-max-packet-size", fits + "x")]:
        kw = {"topic": f}
        if name == "utf8":
            kw = {"topic": None, "topic_hex": f}
        elif name == "too-long":
            kw = {"topic": None, "topic_len": f}
        with pytest.raises(DriverError) as err:
            app.call(op, **kw)
        assert err.value.name == "ValueError", (name, err.value)
        if name == "over-max-packet-size":
            assert "max_packet_size 2000" in err.value.text
    # the largest filter that fits is sent and acknowledged, and the link never went down
    app.call(op, topic=fits)
    assert app.call("status")["stats"]["faults"] == 0


def test_a_subscribe_waiting_for_its_suback_raises_client_closed_at_close(
    mosquitto, fault_proxy, client_app
):
    proxy = fault_proxy(mosquitto)
    # the watchdog would fault the silent link only after response_time: close() comes first
    app = client_app(proxy, keepalive=60, response_time=20)
    app.call("connect")
    proxy.blackhole()  # the SUBSCRIBE goes out, no SUBACK comes back
    sub = app.start("subscribe", topic="never/acked", qos=1)
    time.sleep(0.5)  # lets the SUBSCRIBE go out (if not, close() meets it in _wait_up instead)
    assert not app.done(sub)
    app.call("close", timeout=30)
    with pytest.raises(DriverError) as err:
        app.result(sub, timeout=30)
    assert err.value.name == "MQTTError" and "client closed" in err.value.text


def test_a_granted_qos1_subscription_counts_no_death_when_its_link_dies(
    mosquitto, fault_proxy, observer, client_app
):
    # A subscription's state is True while its SUBSCRIBE waits for the SUBACK, else the code
    # granted (1 for QoS 1) or None: only a pending one counts a death when the link dies.
    # With max_repubs 0 a single death would drop it
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, reconnect_max=0.2, max_repubs=0, **FAST)
    app.call("connect")
    assert app.call("subscribe", topic="kept/#", qos=1) == 1
    for _ in range(2):
        mark = len(app.events)
        proxy.drop()
        down = app.wait_event(lambda e: e["ev"] == "state" and e["up"] is False, start=mark)
        start = app.events.index(down)
        app.wait_event(lambda e: e["ev"] == "state" and e["up"] is True, start=start)
    assert not [line for line in app.logs() if "dropped the subscription" in line]
    assert app.call("subscribe", topic="kept/#", qos=1) == 1  # granted again on this link
    observer(mosquitto).publish("kept/a", "still", qos=1)
    assert app.wait_messages(1)[0][:2] == ("kept/a", b"still")
