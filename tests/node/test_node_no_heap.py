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
    # sensors' scheduler at its next run's task, both silently. (A task that dies while the heap
    # is locked still ends the node: MicroPython's asyncio cannot make the handler's context
    # then, and run() takes a heap still locked for a Ctrl-C inside the collector,
    # test_node_start.py. A full heap is survived: the test below)
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


def test_a_task_whose_failure_cannot_be_told_for_want_of_heap_does_not_end_the_node(
    runtime, mosquitto, start_node, observer
):
    # The loop's exception handler logs a failed task; when that line itself finds no heap
    # (seen at the idle node's 32 KiB edge), its MemoryError used to leave MicroPython's event
    # loop and the node ended as crashed (CPython's asyncio contains a handler's error). One
    # task lost is no reason to end the others
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_node(runtime, mosquitto, components="task_dies_unsaid", INTERVAL_SENSOR_PUBLISH=1)
    node.proc.wait_line("task_dies_unsaid: the task dies now", timeout=15)
    mark = obs.mark()
    obs.wait_messages(node.topic("status"), 3, after=mark, timeout=15)  # the node runs on
    assert node.proc.returncode is None, node.proc.output()
    assert "crash:" not in node.proc.output()
