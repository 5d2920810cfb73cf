"""The client's limits and its manners over outages: in-flight QoS 1 bounded, no offline queue,
the broker's name resolved once on MicroPython, one log line per period while the broker is away."""

from __future__ import annotations

import re
import time

import pytest
from client_app import DriverError

FAST = {"keepalive": 4, "ping_interval": 1, "response_time": 1}


def went_down(e):
    return e["ev"] == "state" and e["up"] is False


def came_up(e):
    return e["ev"] == "state" and e["up"] is True


def wait_reconnected(app, start=0, timeout=15):
    """Wait for an outage after event `start` and the reconnect after it; returns the index
    just after that reconnect."""
    app.wait_event(went_down, start=start, timeout=timeout)
    down = next(i for i in range(start, len(app.events)) if went_down(app.events[i]))
    app.wait_event(came_up, start=down, timeout=timeout)
    return next(i for i in range(down, len(app.events)) if came_up(app.events[i])) + 1


# ----------------------------------------------------------------- in flight


def test_3000_concurrent_qos1_publishers_wait_for_a_slot_and_all_are_acknowledged(
    mosquitto, client_app, runtime
):
    # 4 MiB: the 3000 publishers' own tasks and frames take about 1 KB each on the unix port;
    # with no limit the in-flight records and writes on top of them run out of heap. A shared
    # wake-up for all waiters (n² task switches) takes minutes here, beyond the reply timeout.
    app = client_app(mosquitto, heapsize="4M", max_inflight=32)
    app.call("connect")
    result = app.call("publish_concurrent", topic="flight", n=3000, timeout=60)
    assert result["ok"] == 3000, result
    assert 1 <= result["max_inflight"] <= 32, result
    status = app.call("status")
    assert status["stats"]["inflight"] == 0 and status["stats"]["faults"] == 0, status


def test_close_ends_the_publishers_that_wait_for_a_slot_in_flight(
    mosquitto, fault_proxy, client_app, runtime
):
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, max_inflight=2)
    app.call("connect")
    proxy.freeze()  # no PUBACK comes: 2 in flight, 18 waiting for a slot
    cid = app.start("publish_concurrent", topic="stuck", n=20)
    deadline = time.monotonic() + 10
    while app.call("status")["stats"]["inflight"] < 2:
        assert time.monotonic() < deadline, app.call("status")
        time.sleep(0.02)
    app.call("close")
    result = app.result(cid, timeout=10)  # before, the 18 waited for ever
    assert result["ok"] == 0 and result["other"] == [False] * 5, result
    assert app.call("status")["stats"]["inflight"] == 0  # none slipped into flight after all


def test_after_an_outage_no_more_than_max_inflight_are_in_flight(
    mosquitto, fault_proxy, client_app, runtime
):
    proxy = fault_proxy(mosquitto)
    # response_time 2: a reconnect that meets the proxy still frozen gives up on it soon
    app = client_app(proxy, max_inflight=2, response_time=2, reconnect_max=0.2)
    app.call("connect")
    proxy.freeze()  # no PUBACK comes: 2 in flight, 18 waiting for a slot
    mark = len(app.events)
    cid = app.start("publish_concurrent", topic="outage", n=20)
    deadline = time.monotonic() + 10
    while app.call("status")["stats"]["inflight"] < 2:
        assert time.monotonic() < deadline, app.call("status")
        time.sleep(0.02)
    proxy.drop()  # the outage; the waiters must keep waiting, not join the 2 unsent
    proxy.thaw()
    wait_reconnected(app, start=mark)
    result = app.result(cid, timeout=30)
    # before: the 18 went into flight at the drop and all 20 were re-sent unacknowledged at once
    assert result["ok"] == 20 and result["max_inflight"] <= 2, result
    assert app.call("status")["stats"]["inflight"] == 0


def test_max_inflight_beyond_65000_is_refused_so_packet_ids_never_run_out(runtime, client_app):
    # 65535 ids: the limit keeps some free for SUBSCRIBE and UNSUBSCRIBE, so finding a free id
    # always ends; publishers beyond the limit wait for a slot (the test above)
    with pytest.raises(DriverError) as err:
        client_app(port=1, max_inflight=65001)
    assert err.value.name == "ValueError" and "max_inflight" in err.value.text


# ----------------------------------------------------------------- no offline queue


def test_out_queue_len_0_drops_publishes_while_offline_and_raises_nothing(
    mosquitto, observer, client_app, runtime
):
    app = client_app(mosquitto, out_queue_len=0, reconnect_max=0.2, **FAST)
    app.call("connect")
    assert app.call("publish", topic="q0/up", msg="1", qos=1) is True
    mark = len(app.events)
    mosquitto.stop()
    app.wait_event(went_down, start=mark)
    assert app.call("publish", topic="q0/off", msg="1", qos=1) is False
    assert app.call("publish", topic="q0/off", msg="2", qos=0) is False
    assert app.call("status")["stats"]["dropped"] == 2
    mosquitto.start()
    wait_reconnected(app, start=mark)
    obs = observer(mosquitto)
    obs.subscribe("q0/#")
    assert app.call("publish", topic="q0/back", msg="1", qos=1) is True
    obs.wait_message("q0/back")
    assert obs.count("q0/off") == 0


# ----------------------------------------------------------------- reporting the link


@pytest.fixture
def small_packets(make_broker):
    return make_broker("mosquitto", extra_config="max_packet_size 2000")


def test_down_is_reported_only_for_a_link_that_was_reported_up(small_packets, client_app, runtime):
    app = client_app(small_packets, reconnect_max=0.1, **FAST)
    app.call("connect")
    # A SUBSCRIBE over the broker's packet limit: mosquitto drops the link, and then every new
    # link while it is being restored (the re-subscription), before it is reported up
    app.start("subscribe", topic="big/" + "x" * 2100, qos=1)
    deadline = time.monotonic() + 15
    while app.call("status")["stats"]["faults"] < 4:
        assert time.monotonic() < deadline, app.call("status")
        time.sleep(0.05)
    states = [e["up"] for e in app.events if e["ev"] == "state"]
    assert states[:2] == [True, False], states
    # never down twice in a row
    assert all(states[i] != states[i + 1] for i in range(len(states) - 1)), states


# ----------------------------------------------------------------- name resolution


@pytest.mark.parametrize("runtime", ["micropython"])  # CPython resolves on every attempt
def test_the_brokers_name_is_resolved_once_and_again_only_after_repeated_failures(
    mosquitto, fault_proxy, client_app, runtime
):
    proxy = fault_proxy(mosquitto)
    app = client_app(host="localhost", port=proxy.port, count_resolves=True, reconnect_max=0.05)
    app.call("connect")
    mark = 0
    for _ in range(3):  # reconnects that succeed at once: the address is kept
        proxy.drop()
        mark = wait_reconnected(app, start=mark)
    assert app.call("status")["resolves"] == 1
    # Attempts that fail: the name is looked up again after every 3rd failure in a row
    before = proxy.connections
    proxy.refuse(True)
    proxy.drop()
    proxy.wait_connections(before + 7)
    proxy.refuse(False)
    wait_reconnected(app, start=mark)
    refused = proxy.connections - before - 1  # all but the one that got through
    assert refused >= 7
    assert app.call("status")["resolves"] == 1 + refused // 3


# ----------------------------------------------------------------- logging an outage


def test_an_outage_logs_the_loss_one_summary_per_period_and_the_return(
    mosquitto, client_app, runtime
):
    app = client_app(mosquitto, outage_summary=1, reconnect_max=0.1, **FAST)
    app.call("connect")
    app.wait_event(lambda e: e["ev"] == "log" and "connected to" in e["text"])
    start = len(app.events)
    mosquitto.stop()
    summary = re.compile(r"no connection to 127\.0\.0\.1:\d+ for (\d+) s: (\d+) attempts failed")
    app.wait_event(lambda e: e["ev"] == "log" and summary.search(e["text"]), start=start)
    mark = len(app.events)
    app.wait_event(lambda e: e["ev"] == "log" and summary.search(e["text"]), start=mark)
    mosquitto.start()
    app.wait_event(lambda e: e["ev"] == "log" and "back after" in e["text"], start=start)
    lines = [e["level"] + ": " + e["text"] for e in app.events[start:] if e["ev"] == "log"]
    assert "warning: link to 127.0.0.1" in lines[0] and "lost" in lines[0], lines
    assert lines[-1].startswith("info: connected to 127.0.0.1") and "back after" in lines[-1]
    summaries = [summary.search(line) for line in lines[1:-1]]
    assert all(summaries) and len(summaries) >= 2, lines  # nothing else, no line per attempt
    seconds = [int(m.group(1)) for m in summaries]
    attempts = [int(m.group(2)) for m in summaries]
    # one line per period of the client's own clock, each summing up more attempts than lines
    assert seconds == sorted(set(seconds)), lines
    assert attempts == sorted(set(attempts)) and attempts[-1] > len(summaries), lines


def test_outage_summary_must_be_positive(runtime, client_app):
    with pytest.raises(DriverError) as err:
        client_app(port=1, outage_summary=0)
    assert err.value.name == "ValueError" and "outage_summary" in err.value.text
