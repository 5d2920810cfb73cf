"""A node whose heap is too full to reconnect resets, with the reason, rather than live on deaf."""

import pytest

# A CONNECT of over 4 KiB: more than the fragmented heap has in one block (nodes/ballast.py)
BIG_CONNECT = {"MQTT_USER": "node", "MQTT_PASSWORD": "p" * 4096}
REASON = "out of memory: 5 connect attempts in a row failed with MemoryError"


@pytest.mark.parametrize("runtime", ["micropython"])  # the unix port's heap can be filled
def test_node_too_short_of_heap_to_reconnect_ends_non_zero_and_reports_why_after_restart(
    runtime, mosquitto, fault_proxy, start_node, observer
):
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    proxy = fault_proxy(mosquitto)
    node = start_node(runtime, proxy, components="ballast", heapsize="256k", **BIG_CONNECT)
    obs.wait_message(node.topic("available"), b"online", timeout=15)
    obs.publish(node.topic("ballast/set"), "fill", qos=1)
    node.proc.wait_line("ballast: heap fragmented", timeout=15)
    proxy.drop()  # every reconnect attempt now fails with MemoryError
    status = node.proc.wait(timeout=30)
    output = node.proc.output()
    assert status != 0, output
    assert "reset: " + REASON in output
    assert (node.folder / "reset_reason.txt").read_text() == REASON
    (node.folder / "components.py").unlink()
    mark = obs.mark()
    again = start_node(runtime, mosquitto, device_id=node.device_id, folder=node.folder)
    msg = obs.wait_message(again.log_topic("warn"), timeout=15, after=mark)
    assert msg.text == "[node] last reset: " + REASON


STARVED = """
from pysmartnode.logging import logger  # loaded, as in a running node
from pysmartnode.networking.mqtt import _starved  # the node's oom_cb

for n in (1, 2, 3, 4):
    _starved(n)
print("4 starved attempts: running")
try:
    _starved(5)
except Exception:  # as the client takes it: the node would live on
    pass
print("5 starved attempts: still running")
"""


def test_the_fifth_starved_attempt_in_a_row_resets_the_node_with_the_reason(
    runtime, run_py, tmp_path
):
    # The policy itself, on both runtimes (CPython's restart is os._exit, the unix port's a
    # SystemExit): the client's count, 1, 2, 3..., as it hands it to oom_cb
    script = tmp_path / "starved.py"
    script.write_text(STARVED)
    proc = run_py(runtime, script, cwd=tmp_path)
    assert proc.wait(timeout=20) == 1, proc.output()
    output = proc.output()
    assert "4 starved attempts: running" in output
    assert "reset: " + REASON in output and "still running" not in output
    assert (tmp_path / "reset_reason.txt").read_text() == REASON


@pytest.mark.parametrize("runtime", ["micropython"])  # the unix port's heap can be locked
def test_a_node_with_no_heap_at_all_still_prints_the_reason_and_ends_non_zero(
    runtime, run_py, tmp_path
):
    # Not a byte to allocate (the heap locked): the reset line cannot be formatted, nor the
    # record opened, but the reason, made beforehand, is printed and the node ends
    script = tmp_path / "starved.py"
    script.write_text(STARVED.replace("    _starved(5)", "    heap_lock()\n    _starved(5)"))
    script.write_text("from micropython import heap_lock\n" + script.read_text())
    proc = run_py(runtime, script, cwd=tmp_path)
    assert proc.wait(timeout=20) == 1, proc.output()
    assert REASON in proc.output() and "still running" not in proc.output()
