"""The MQTT handle as components use it: callbacks, the /set echo, restore, hooks, bad input."""

import pytest


# A node with the probe components (tests/node/nodes/probe.py), ready and watched
@pytest.fixture
def probe(runtime, broker, start_node, observer):
    obs = observer(broker)
    obs.subscribe("home/#")
    node = start_node(runtime, broker, components="probe")
    obs.wait_message(node.topic("probe/hook"), b"connect", timeout=15)
    node.proc.wait_line("probe: components loaded")
    return node, obs


def test_command_runs_the_callback_and_echoes_the_state_retained(probe, broker, observer):
    node, obs = probe
    obs.publish(node.topic("switch/set"), "ON")
    seen = obs.wait_message(node.topic("probe/switch"))
    assert seen.text == "./switch/set ON False"
    assert obs.wait_message(node.topic("switch"), b"ON").payload == b"ON"
    # A live subscriber never sees the retain flag (MQTT 3.1.1 §3.3.1.3): a late one must
    late = observer(broker)
    late.subscribe(node.topic("switch"))
    echo = late.wait_message(node.topic("switch"))
    assert echo.retain and echo.payload == b"ON"


def test_a_subscription_made_while_the_node_runs_reaches_the_broker(probe):
    node, obs = probe
    obs.publish(node.topic("subscribe_late"), "now")
    for _ in range(40):  # the handle subscribes at the broker soon after, in its own task
        mark = obs.mark()
        obs.publish(node.topic("late"), "hello", qos=1)
        if _arrives(obs, node, mark):
            break
    assert obs.wait_message(node.topic("probe/late"), timeout=1).text == "hello"


def _arrives(obs, node, mark):
    try:
        obs.wait_message(node.topic("probe/late"), after=mark, timeout=0.25)
    except AssertionError:
        return False
    return True


def test_async_callback_result_is_published_to_the_state_topic(probe):
    node, obs = probe
    obs.publish(node.topic("async/set"), "go")
    assert obs.wait_message(node.topic("async")).text == "async go"


def test_raising_callback_is_logged_and_the_next_callback_still_runs(probe):
    node, obs = probe
    obs.publish(node.topic("multi"), "hello")
    assert obs.wait_message(node.topic("probe/multi")).text == "hello"
    error = obs.wait_message(node.log_topic("error"))
    assert b"probe callback failed on purpose" in error.payload


def test_payload_that_is_not_json_is_logged_and_ignored(probe):
    node, obs = probe
    obs.publish(node.topic("json"), "{not json")
    warning = obs.wait_message(node.log_topic("warn"), lambda m: b"not JSON" in m.payload)
    assert b"./json" in warning.payload
    obs.publish(node.topic("json"), '{"value": 7}')
    assert obs.wait_message(node.topic("probe/json")).text == "7"


def test_payload_that_is_not_utf8_is_logged_and_ignored(probe):
    node, obs = probe
    obs.publish(node.topic("text"), b"\xff\xfe\xfd")
    obs.wait_message(node.log_topic("warn"), lambda m: b"not UTF-8" in m.payload)
    obs.publish(node.topic("text"), "fine")
    assert obs.wait_message(node.topic("probe/text")).text == "fine"


@pytest.mark.parametrize(
    "topic", ["probe_ext/a/x", "probe_ext/b/x/deep/er"], ids=["plus", "plus-and-hash"]
)
def test_wildcard_subscription_receives_matching_topics(probe, topic):
    node, obs = probe
    obs.publish(topic, "1")
    assert obs.wait_message(node.topic("probe/wildcard")).text == topic


def test_home_assistant_online_republishes_availability_and_runs_hooks(probe):
    node, obs = probe
    mark = obs.mark()
    obs.publish("homeassistant/status", "online")
    obs.wait_message(node.topic("probe/hook"), b"homeassistant", timeout=10, after=mark)
    assert obs.wait_message(node.topic("available"), b"online", after=mark).payload == b"online"
