"""The software watchdog: a component that blocks the event loop gets the node reset."""

import pytest


@pytest.mark.slow
def test_blocked_event_loop_ends_the_node_non_zero_with_the_reason(
    runtime, mosquitto, start_node, observer
):
    node = start_node(runtime, mosquitto, components="blocking", WATCHDOG_TIMEOUT=1.5)
    node.proc.wait_line("blocking: the event loop stops now, for 60 s", timeout=15)
    assert node.proc.wait(timeout=15) != 0
    assert "watchdog: the event loop stood still" in node.proc.output()
    assert "blocking: the event loop runs again" not in node.proc.output()


@pytest.mark.slow
def test_reason_of_the_last_reset_is_published_after_the_next_start(
    runtime, mosquitto, start_node, observer
):
    first = start_node(runtime, mosquitto, components="blocking", WATCHDOG_TIMEOUT=1.5)
    first.proc.wait(timeout=20)
    (first.folder / "components.py").unlink()
    obs = observer(mosquitto)
    obs.subscribe("home/log/#")
    second = start_node(runtime, mosquitto, device_id=first.device_id, folder=first.folder)
    msg = obs.wait_message(second.log_topic("warn"), timeout=15)
    assert msg.text.startswith("[node] last reset: watchdog: the event loop stood still")


def test_node_with_a_busy_but_awaiting_loop_keeps_running(runtime, mosquitto, start_node, observer):
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_node(runtime, mosquitto, WATCHDOG_TIMEOUT=1, INTERVAL_SENSOR_PUBLISH=0.5)
    obs.wait_messages(node.topic("status"), 5, timeout=20)
    assert node.proc.returncode is None
