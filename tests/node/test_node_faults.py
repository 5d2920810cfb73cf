"""Faults around the node: retained state at start, broker restarts, no broker at start."""

import re

import pytest


def test_retained_state_is_restored_into_the_callback_at_start(
    runtime, broker, start_node, observer
):
    obs = observer(broker)
    obs.subscribe("home/#")
    obs.publish("home/trestore/switch", "ON", qos=1, retain=True)
    node = start_node(runtime, broker, components="probe", device_id="trestore")
    seen = obs.wait_message(node.topic("probe/switch"), timeout=15)
    assert seen.text == "./switch ON True"


def test_node_without_retained_state_restores_nothing(runtime, mosquitto, start_node, observer):
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_node(runtime, mosquitto, components="probe")
    obs.wait_message(node.topic("available"), b"online", timeout=15)
    node.proc.wait_line("probe: components loaded")
    obs.publish(node.topic("query"), "?")
    assert obs.wait_message(node.topic("probe/state")).text == "None"
    assert obs.count(node.topic("probe/switch")) == 0


@pytest.mark.slow
def test_node_returns_online_and_resubscribed_after_broker_restart(
    runtime, broker, start_node, observer
):
    obs = observer(broker)
    obs.subscribe("home/#")
    node = start_node(runtime, broker, components="probe", MQTT_KEEPALIVE=4)
    obs.wait_message(node.topic("probe/hook"), b"connect", timeout=15)
    obs.publish(node.topic("switch/set"), "ON")
    obs.wait_message(node.topic("probe/switch"))
    mark = obs.mark()
    broker.restart(down_seconds=1)
    # The observer reconnects too and may miss what the node sent meanwhile: the node's
    # retained `online` (the broker lost its old one) shows it is back
    obs.wait_message(node.topic("available"), b"online", timeout=30, after=mark)
    obs.publish(node.topic("query"), "?")
    assert obs.wait_message(node.topic("probe/state"), after=mark).text == "ON"
    obs.publish(node.topic("switch/set"), "OFF")
    assert obs.wait_message(node.topic("probe/switch"), after=mark).text == "./switch/set OFF False"
    obs.publish(node.topic("status/set"), "now")
    assert obs.wait_message(node.topic("status"), after=mark).json()["reconnects"] >= 1


@pytest.mark.slow
def test_node_keeps_retrying_an_unreachable_broker_and_connects_when_it_starts(
    runtime, make_broker, start_node, observer
):
    broker = make_broker("mosquitto", start=False)
    node = start_node(runtime, broker)
    first = node.proc.wait_line("broker unreachable", timeout=15)
    second = node.proc.wait_line("broker unreachable", after=first.index + 1)
    broker.start()
    obs = observer(broker)
    obs.subscribe(node.topic("available"))
    assert obs.wait_message(node.topic("available"), b"online", timeout=30).payload == b"online"
    pauses = [int(re.search(r"next attempt in (\d+) s", line)[1]) for line in (first, second)]
    assert pauses[0] >= 1 and pauses[1] > pauses[0]  # a growing pause, never a busy loop


def test_a_broker_outage_costs_two_log_lines_not_one_per_attempt(
    runtime, mosquitto, fault_proxy, start_node, observer
):
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    proxy = fault_proxy(mosquitto)
    node = start_node(runtime, proxy, components="probe", MQTT_KEEPALIVE=4)
    obs.wait_message(node.topic("probe/hook"), b"connect", timeout=15)
    connected = obs.wait_message(node.log_topic(), lambda m: b"connected to" in m.payload)
    assert b"127.0.0.1:%d" % proxy.port in connected.payload
    mark = obs.mark()
    proxy.refuse(True)  # every reconnect attempt is accepted and closed at once
    proxy.drop()
    proxy.wait_connections(proxy.connections + 8, timeout=20)  # eight failed attempts at least
    proxy.refuse(False)
    back = obs.wait_message(
        node.log_topic(), lambda m: b"back after" in m.payload, after=mark, timeout=20
    )
    obs.publish(node.topic("query"), "?")  # a round trip: whatever the node logged is in
    obs.wait_message(node.topic("probe/state"), after=mark)
    lines = [m.text for m in obs.matching(node.log_topic(), after=mark)]
    assert len(lines) == 2, lines  # "link ... lost" and "connected ..., back after N s"
    assert "lost" in lines[0] and back.text == lines[1]


def test_an_invalid_filter_is_logged_and_the_next_subscription_still_works(
    runtime, mosquitto, start_node, observer
):
    # The client refuses '#' inside a filter with ValueError before sending anything; the
    # handle's subscription worker must log it and go on to the next filter, not die
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_node(runtime, mosquitto, components="invalid_filter")
    obs.wait_message(node.log_topic(), lambda m: b"cannot subscribe" in m.payload, timeout=15)
    obs.wait_message(node.topic("available"), b"online", timeout=15)
    mark = obs.mark()
    obs.publish(node.topic("ping/set"), b"hello", qos=1)
    obs.wait_message(node.topic("ping"), b"hello", after=mark, timeout=10)


@pytest.mark.slow
def test_a_refused_subscription_is_retried_with_growing_pauses_and_logged_as_a_summary(
    runtime, make_broker, start_node, observer
):
    # amqtt's taboo plugin refuses SUBSCRIBE "prohibited" (0x80); mosquitto grants everything
    taboo = {"plugins": {"amqtt.plugins.topic_checking.TopicTabooPlugin": {}}}
    broker = make_broker("amqtt", extra_config=taboo)
    obs = observer(broker)
    node = start_node(runtime, broker, components="refused")
    obs.subscribe(node.log_topic())

    def refusal(m):
        return b"subscribing prohibited failed" in m.payload

    first = obs.wait_message(node.log_topic(), refusal, timeout=20)
    second = obs.wait_message(node.log_topic(), refusal, after=first.index + 1, timeout=20)
    pauses = [int(re.search(r"next attempt in (\d+) s", m.text)[1]) for m in (first, second)]
    assert pauses[1] > pauses[0] >= 1, pauses  # the pause grows: no retry every 5 s for ever
    # The third refusal comes one pause later and is not logged (summaries at 1, 2, 4, 8...):
    # the node says nothing more about it until well after that
    with pytest.raises(AssertionError):
        obs.wait_message(node.log_topic(), refusal, after=second.index + 1, timeout=pauses[1] + 3)
    assert node.proc.returncode is None  # the node runs on
