"""Chaos runs: QoS 1 publishing while the link is dropped, frozen and the broker restarted.

The short run is part of every CI run; `-m soak` runs the long one (SOAK_SECONDS, default 600).
"""

from __future__ import annotations

import os
import random
import time

import pytest
from harness import random_fault

FAST = {"keepalive": 4, "ping_interval": 0.5, "response_time": 1}


def chaos_run(broker, fault_proxy, observer, client_app, seconds: float, tmp_path):
    proxy = fault_proxy(broker)
    app = client_app(proxy, **FAST)
    app.call("connect")
    fds = len(os.listdir("/proc/%d/fd" % app.proc.pid))
    every = 0.02
    n = int(seconds / every)
    cid = app.start("publish_paced", topic="soak", n=n, every=every, retain=True, distinct=True)
    rng = random.Random(20261122)
    faults = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not app.done(cid):
        time.sleep(rng.uniform(1.0, 2.5))
        faults.append(random_fault(rng, proxy, broker))  # a 2 s freeze is found dead
    failed = app.result(cid, timeout=seconds * 4 + 60)
    assert failed == [], "publish() returned False for %d messages" % len(failed)
    # Every acknowledged message is retained at the broker, which persists across restarts
    obs = observer(broker)
    obs.subscribe("soak/#")
    deadline = time.monotonic() + 30
    while obs.count("soak/#") < n:
        assert time.monotonic() < deadline, "only %d of %d messages at the broker after %s" % (
            obs.count("soak/#"),
            n,
            faults,
        )
        time.sleep(0.1)
    payloads = {m.topic: m.payload for m in obs.messages}
    assert all(payloads["soak/%d" % i] == str(i).encode() for i in range(n))
    status = app.call("status")
    stats = status["stats"]
    assert stats["reconnects"] >= 1 and stats["connects"] == stats["reconnects"] + 1
    # Resources: nothing left behind by the outages
    assert stats["inflight"] == 0 and stats["queued"] == 0
    assert status["connected"] and status["tasks"] <= 3  # supervisor, watchdog, MP reader
    assert len(os.listdir("/proc/%d/fd" % app.proc.pid)) == fds, "file descriptors leaked"
    return faults


@pytest.fixture
def persistent_mosquitto(make_broker, tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    store.chmod(0o777)
    # The check subscribes to every retained message at once: mosquitto queues at most 1,000
    # QoS 1 messages (+ 20 in flight) for a client and drops the rest, which a run of over
    # 20 s (1,020 messages at 50 a second) exceeds: no limit here
    return make_broker(
        "mosquitto",
        extra_config="persistence true\npersistence_location %s/\nmax_queued_messages 0\n" % store,
    )


@pytest.mark.slow
def test_no_qos1_message_is_lost_through_drops_freezes_and_broker_restarts(
    persistent_mosquitto, fault_proxy, observer, client_app, tmp_path
):
    faults = chaos_run(persistent_mosquitto, fault_proxy, observer, client_app, 8, tmp_path)
    assert len(faults) >= 2


@pytest.mark.soak
def test_soak_no_qos1_message_is_lost_over_a_long_chaos_run(
    persistent_mosquitto, fault_proxy, observer, client_app, tmp_path
):
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    chaos_run(persistent_mosquitto, fault_proxy, observer, client_app, seconds, tmp_path)
