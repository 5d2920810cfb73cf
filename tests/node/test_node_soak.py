"""Endurance: a node on a tight heap keeps working through link drops, freezes and broker restarts.

Commands flow in, state flows out and the status is asked for all the time, while the link to the
broker is dropped, frozen and the broker restarted at random. At the end the node must still be
running, answer, hold the last command, and have leaked no memory. The short run is part of every
CI run; `-m soak` runs the long one (SOAK_SECONDS, default 600).
"""

from __future__ import annotations

import os
import random
import time

import pytest
from harness import random_fault

# The unix port's heap for this node (from .py sources, with the registry, discovery and the
# status entities): the short run crashed with MemoryError on 150 and 175 KiB and passed on
# 200 KiB once, failed there once (at import: fragmentation); the rest is room for the backlogs
# of a slower machine
HEAPSIZE = "256k"
# Free RAM may differ by this much between two reports without a leak (queues, buffers)
LEAK_SLACK = 6 * 1024


def chaos_node(runtime, broker, fault_proxy, start_node, observer, seconds: float) -> dict:
    proxy = fault_proxy(broker)
    node = start_node(
        runtime,
        proxy,
        components="probe",
        heapsize=HEAPSIZE if runtime == "micropython" else None,
        MQTT_KEEPALIVE=4,  # pings after 1 s of silence: a frozen link is found in seconds
        INTERVAL_SENSOR_PUBLISH=2,
    )
    obs = observer(broker)
    obs.subscribe("home/#")
    obs.wait_message(node.topic("available"), b"online", timeout=15)
    obs.publish(node.topic("status/set"), "now")
    before = obs.wait_message(node.topic("status"), after=obs.mark()).json()

    rng = random.Random(20261122)
    faults: list[str] = []
    sent = 0
    deadline = time.monotonic() + seconds
    next_fault = time.monotonic() + rng.uniform(1.0, 2.5)
    while time.monotonic() < deadline:
        sent += 1
        obs.publish(node.topic("switch/set"), str(sent), qos=1)
        if sent % 10 == 0:
            obs.publish(node.topic("status/set"), "now")
        time.sleep(0.05)
        if time.monotonic() >= next_fault:
            # freezes sometimes long enough to be found dead, sometimes not
            faults.append(random_fault(rng, proxy, broker, freeze_seconds=(0.5, 3.0)))
            next_fault = time.monotonic() + rng.uniform(1.0, 2.5)
        assert node.proc.returncode is None, node.proc.output()[-3000:]

    # Calm again: the node comes back, takes a last command and reports on request
    mark = obs.mark()
    obs.publish(node.topic("switch/set"), "last", qos=1)
    obs.wait_message(node.topic("switch"), b"last", after=mark, timeout=30)
    obs.wait_message(node.topic("probe/switch"), lambda m: m.text.endswith(" last False"))
    mark = obs.mark()
    obs.publish(node.topic("status/set"), "now")
    after = obs.wait_message(node.topic("status"), after=mark, timeout=15).json()
    assert node.proc.returncode is None
    output = node.proc.output()
    assert "MemoryError" not in output and "Traceback" not in output, output[-3000:]
    assert after["reconnects"] >= 1, (faults, after)
    assert after["uptime"] >= before["uptime"] + int(seconds) - 1
    return {"faults": faults, "before": before, "after": after, "sent": sent}


@pytest.mark.slow
def test_node_keeps_working_through_drops_freezes_and_broker_restarts(
    runtime, mosquitto, fault_proxy, start_node, observer
):
    run = chaos_node(runtime, mosquitto, fault_proxy, start_node, observer, 10)
    assert len(run["faults"]) >= 3
    if runtime == "micropython":
        assert run["after"]["ram_free"] >= run["before"]["ram_free"] - LEAK_SLACK, run


@pytest.mark.soak
def test_soak_node_runs_for_a_long_chaos_run_without_leaking(
    runtime, mosquitto, fault_proxy, start_node, observer
):
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    run = chaos_node(runtime, mosquitto, fault_proxy, start_node, observer, seconds)
    assert len(run["faults"]) >= seconds / 5  # one every 1-2.5 s, some lasting up to 3 s
    if runtime == "micropython":
        assert run["after"]["ram_free"] >= run["before"]["ram_free"] - LEAK_SLACK, run
