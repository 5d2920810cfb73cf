"""A moment with no heap at all, as a node at the edge of its heap meets now and then, is a
passing fault: no task of the node dies of it, nothing ends or resets the node (the unix port,
whose heap can be locked: micropython.heap_lock())."""

import pytest


@pytest.mark.parametrize("runtime", ["micropython"])  # the unix port's heap can be locked
def test_a_moment_with_no_heap_ends_no_task_and_resets_nothing(
    runtime, mosquitto, start_node, observer
):
    # For 1.5 s nothing can be allocated (nodes/heap_squeeze.py), less than the watchdog's 3 s.
    # Before: the watchdog's feed task died of it (MicroPython's sleep(seconds) makes a float)
    # and the watchdog reset a node that was fine; the status loop died at its import, and the
    # sensors' scheduler at its next run's task, both silently; the task-failure log, raising
    # MemoryError in the loop's exception handler, ended the node ("Ctrl-C hit the garbage
    # collector", exit 0)
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_node(
        runtime, mosquitto, components="heap_squeeze", WATCHDOG_TIMEOUT=3, INTERVAL_SENSOR_PUBLISH=1
    )
    node.proc.wait_line("heap_squeeze: the heap is back", timeout=15)
    mark = obs.mark()
    # five reports, a second apart: past the watchdog's 3 s, the node still reports
    obs.wait_messages(node.topic("status"), 5, after=mark, timeout=20)
    obs.wait_messages(node.topic("uptime"), 5, after=mark, timeout=10)  # every 0.5 s: the sensor
    obs.publish(node.topic("lamp/set"), "ON", qos=1)
    assert obs.wait_message(node.topic("lamp"), b"ON", after=mark, timeout=10)  # the switch
    out = node.proc.output()
    assert node.proc.returncode is None, out
    assert "reset:" not in out and "garbage collector" not in out, out
    assert "task failed" not in out, out  # no task of the node died of it


@pytest.mark.parametrize("runtime", ["micropython"])
def test_a_task_that_fails_with_no_heap_is_reported_and_the_node_goes_on(
    runtime, mosquitto, start_node, observer
):
    # The loop's exception handler formats a line for a failed task; with no heap that raised
    # MemoryError inside the event loop, which ended the node ("Ctrl-C hit the garbage
    # collector", exit 0)
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_node(
        runtime, mosquitto, components="fails_without_heap", WATCHDOG_TIMEOUT=3,
        INTERVAL_SENSOR_PUBLISH=1,
    )  # fmt: skip
    node.proc.wait_line("fails_without_heap: the heap is back", timeout=15)
    mark = obs.mark()
    obs.wait_messages(node.topic("status"), 3, after=mark, timeout=15)
    out = node.proc.output()
    assert node.proc.returncode is None, out
    assert "pysmartnode: a task failed; no heap to say more" in out, out
    assert "garbage collector" not in out and "reset:" not in out, out
