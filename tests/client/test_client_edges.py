"""The client at the edges: sockets that really close, writes that cannot wedge, bounded
re-delivery, sessions from the first outage on, healthy links that stay up, big messages."""

from __future__ import annotations

import os
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
    just after that reconnect (events compare by value: find them by position)."""
    app.wait_event(went_down, start=start, timeout=timeout)
    down = next(i for i in range(start, len(app.events)) if went_down(app.events[i]))
    app.wait_event(came_up, start=down, timeout=timeout)
    return next(i for i in range(down, len(app.events)) if came_up(app.events[i])) + 1


def open_fds(app) -> int:
    return len(os.listdir("/proc/%d/fd" % app.proc.pid))


# ----------------------------------------------------------------- 1: sockets really close


def test_twenty_reconnects_leave_no_file_descriptor_behind(mosquitto, fault_proxy, client_app):
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, reconnect_max=0.1, **FAST)
    app.call("connect")
    app.call("publish", topic="fd/x", msg="1", qos=1)
    before = open_fds(app)
    mark = len(app.events)
    for _ in range(20):
        proxy.drop()
        mark = wait_reconnected(app, start=mark)
    assert app.call("publish", topic="fd/x", msg="2", qos=1) is True
    assert open_fds(app) == before
    assert app.call("status")["stats"]["reconnects"] == 20


def test_close_makes_the_broker_send_the_will_at_once(broker, observer, client_app):
    obs = observer(broker)
    obs.subscribe("will/#")
    # keepalive 60: a will sent only when the broker's keepalive runs out would take 90 s
    app = client_app(broker, will=["will/close", "gone", False, 1], keepalive=60)
    app.call("connect")
    app.call("close")
    assert obs.wait_message("will/close", timeout=5).payload == b"gone"


# ----------------------------------------------------------------- 2: bounded re-delivery


@pytest.fixture
def small_packets(make_broker):
    return make_broker("mosquitto", extra_config="max_packet_size 2000")


def test_a_message_the_broker_rejects_by_disconnecting_is_dropped_and_the_rest_flows(
    small_packets, client_app
):
    app = client_app(small_packets, reconnect_max=0.2, **FAST)
    app.call("connect")
    with pytest.raises(DriverError) as err:
        app.call("publish", topic="big/x", size=5000, qos=1, timeout=30)
    assert err.value.name == "MQTTError" and "not acknowledged" in err.value.text
    assert "big/x" in err.value.text  # the topic, read from the header (the record keeps none)
    assert app.call("publish_many", topic="small", n=10, qos=1, timeout=30) == [True] * 10
    stats = app.call("status")["stats"]
    assert stats["inflight"] == 0 and stats["faults"] <= 6


def test_max_packet_size_refuses_what_the_broker_would_reject_before_sending(
    small_packets, client_app
):
    app = client_app(small_packets, max_packet_size=2000, **FAST)
    app.call("connect")
    with pytest.raises(DriverError) as err:
        app.call("publish", topic="big/x", size=5000, qos=1)
    assert err.value.name == "ValueError" and "max_packet_size" in err.value.text
    assert app.call("publish", topic="small/x", size=1000, qos=1) is True
    assert app.call("status")["stats"]["faults"] == 0


@pytest.mark.parametrize(
    "topic", ["bad/\udcff", "nul/\x00", "wild/+", "wild/#"], ids=["utf8", "nul", "plus", "hash"]
)
def test_a_topic_that_is_not_valid_utf8_or_has_wildcards_is_a_value_error(
    mosquitto, client_app, topic
):
    app = client_app(mosquitto, **FAST)
    app.call("connect")
    if topic == "bad/\udcff":  # invalid UTF-8 cannot cross JSON as str: send the bytes
        cid = app.start("publish", topic=None, msg="x", qos=1, topic_hex=b"bad/\xff".hex())
        with pytest.raises(DriverError) as err:
            app.result(cid)
    else:
        with pytest.raises(DriverError) as err:
            app.call("publish", topic=topic, msg="x", qos=1)
    assert err.value.name == "ValueError"
    assert app.call("publish", topic="ok/x", msg="1", qos=1) is True
    assert app.call("status")["stats"]["faults"] == 0


# ----------------------------------------------------------------- 3: a write cannot wedge


def test_a_write_blocked_on_a_frozen_link_does_not_wedge_the_client(
    mosquitto, fault_proxy, client_app
):
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, out_queue_len=2, **FAST)
    app.call("connect")
    proxy.blackhole()  # this connection hears nothing more, new ones work
    # 64 KiB QoS 0 messages until the socket buffers are full and a write blocks
    app.start("publish_stream", topic="flood", size=65536, n=400, qos=0)
    app.wait_event(went_down, timeout=20)
    assert app.call("publish", topic="after/x", msg="1", qos=1, timeout=30) is True


# ----------------------------------------------------------------- 4: the session from the start


# mosquitto only: amqtt 0.12.1 delivers nothing it queued for an offline persistent session
def test_clean_init_then_persistent_session_keeps_messages_from_the_first_outage_on(
    mosquitto, fault_proxy, observer, client_app
):
    broker = mosquitto
    proxy = fault_proxy(broker)
    app = client_app(proxy, clean_init=True, clean=False, reconnect_max=0.2, **FAST)
    app.call("connect")
    app.call("subscribe", topic="sess/#", qos=1)
    obs = observer(broker)
    mark = len(app.events)
    for outage in ("first", "second"):
        proxy.refuse(True)
        proxy.drop()
        app.wait_event(went_down, start=mark)
        obs.publish("sess/" + outage, outage, qos=1)
        time.sleep(0.3)  # the broker has queued it for the session
        proxy.refuse(False)
        mark = wait_reconnected(app, start=mark)
        want = ("sess/" + outage).encode()
        app.wait_messages(1 if outage == "first" else 2, timeout=10)
        assert [m[0] for m in app.messages()][-1].encode() == want


# ----------------------------------------------------------------- 5: healthy links stay up


def test_a_steady_qos0_stream_does_not_fault_a_healthy_link(mosquitto, client_app):
    app = client_app(mosquitto, **FAST)
    app.call("connect")
    # 4 s without a byte received: the keepalive must ping between the publishes
    results = app.call("publish_stream", topic="s", size=64, seconds=4, qos=0, timeout=60)
    assert results["ok"] == results["n"] and results["n"] > 1000
    assert app.call("status")["stats"]["faults"] == 0


def test_a_large_qos1_upload_over_a_slow_uplink_completes(mosquitto, fault_proxy, client_app):
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, keepalive=10, ping_interval=1, response_time=3)
    app.call("connect")
    # 100 KB/s: the upload takes 6 s, six ping intervals and twice response_time; on loopback
    # the kernel shows progress in steps of a 64 KiB window (0.7 s), well within response_time
    proxy.throttle(100_000)
    assert app.call("publish", topic="up/x", size=600_000, qos=1, timeout=60) is True
    assert app.call("status")["stats"]["faults"] == 0


# ----------------------------------------------------------------- 6: a replaced connection


@pytest.mark.parametrize("runtime", ["cpython"])  # callbacks of a transport: CPython only
def test_a_replaced_tls_connection_delivers_nothing_late_into_the_new_one(
    mosquitto_tls, fault_proxy, observer, client_app, runtime
):
    tls = mosquitto_tls.tls
    proxy = fault_proxy(mosquitto_tls)
    app = client_app(
        proxy,
        ssl=True,
        ssl_params={"cadata_hex": tls.ca_der.hex(), "server_hostname": tls.server_hostname},
        keepalive=4,
        ping_interval=1,
        response_time=2,
    )
    app.call("connect")
    app.call("subscribe", topic="late/#", qos=0)
    obs = observer(mosquitto_tls)
    proxy.blackhole()  # the first connection goes silent, new ones flow
    obs.publish("late/old", "stale", qos=1)  # sent on the first connection, held in the proxy
    mark = wait_reconnected(app)
    # The held bytes now reach the replaced connection: the late message, then the end of the
    # connection (mosquitto closed it when the new one took the session over). Without abort
    # and detach, its TLS shutdown ends here with a connection_lost that faults the new link
    proxy.release()
    proxy.wait_active(1)
    assert app.call("publish", topic="late/new", msg="fresh", qos=1) is True
    app.wait_event(lambda e: e["ev"] == "msg" and e["topic"] == "late/new", start=mark)
    assert app.call("publish", topic="late/after", msg="1", qos=1) is True
    status = app.call("status")
    assert status["connected"] and status["stats"]["faults"] == 1, status
    assert not any(went_down(e) for e in app.events[mark:]), app.events[mark:]
    assert "late/old" not in [m[0] for m in app.messages()]


# ----------------------------------------------------------------- 7: cancelling a write


def test_cancelling_a_publish_mid_write_never_desynchronises_the_stream(
    mosquitto, fault_proxy, client_app
):
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, keepalive=10, ping_interval=5, response_time=5)
    app.call("connect")
    proxy.throttle(200_000)
    assert app.call("publish_cancel", topic="c/x", size=1_000_000, after=0.3) == "cancelled"
    proxy.throttle(0)
    assert app.call("publish", topic="c/after", msg="1", qos=1, timeout=30) is True
    log = mosquitto.log_text()
    assert "protocol error" not in log and "malformed" not in log.lower()


def test_a_publish_cancelled_while_waiting_its_turn_to_write_holds_up_no_one_behind_it(
    mosquitto, fault_proxy, observer, client_app
):
    obs = observer(mosquitto)
    obs.subscribe("turn/#", qos=1)
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, keepalive=10, ping_interval=5, response_time=5)
    app.call("connect")
    proxy.throttle(200_000)
    big = app.start("publish", topic="turn/big", size=300_000)  # writes for about 1.5 s
    gone = app.start("publish_cancel", topic="turn/cancelled", size=10, after=0.3)
    behind = [app.start("publish", topic="turn/%d" % i, msg=str(i)) for i in range(3)]
    assert app.result(gone, timeout=10) == "cancelled"  # while the big one held the writer
    proxy.throttle(0)
    assert app.result(big, timeout=30) is True
    assert [app.result(cid, timeout=10) for cid in behind] == [True, True, True]
    got = obs.wait_messages("turn/#", 4, timeout=10)
    assert [m.topic for m in got] == ["turn/big", "turn/0", "turn/1", "turn/2"]
    assert obs.count("turn/cancelled") == 0
    assert app.call("publish", topic="turn/later", msg="x", qos=1, timeout=10) is True


# ----------------------------------------------------------------- 8: big incoming messages


@pytest.mark.parametrize("runtime", ["micropython"])
def test_a_retained_message_too_big_for_the_heap_causes_no_reconnect_loop(
    mosquitto, observer, client_app, runtime
):
    obs = observer(mosquitto)
    big = bytes(range(256)) * 76  # 19 KiB
    obs.publish("big/retained", big, qos=1, retain=True)
    # Room for the 19 KiB buffer in one piece: from .py sources that takes 176-192 KiB of heap
    # before conn.py (session 18), 192-200 KiB after; the edge is contiguity, not bytes kept
    app = client_app(mosquitto, heapsize="224k", **FAST)
    app.call("connect")
    app.call("subscribe", topic="big/#", qos=1)
    obs.publish("big/small", "ok", qos=1)
    got = app.wait_messages(2, timeout=10)
    assert ("big/retained", big, True) in got and ("big/small", b"ok", False) in got
    assert app.call("status")["stats"]["faults"] == 0


def test_a_message_over_max_incoming_is_discarded_acknowledged_and_counted(
    broker, observer, client_app
):
    app = client_app(broker, max_incoming=1000, **FAST)
    app.call("connect")
    app.call("subscribe", topic="in/#", qos=1)
    obs = observer(broker)
    obs.publish("in/big", bytes(5000), qos=1)
    obs.publish("in/small", "ok", qos=1)
    assert app.wait_messages(1)[0][:2] == ("in/small", b"ok")
    stats = app.call("status")["stats"]
    assert stats["discarded"] == 1 and stats["faults"] == 0
    assert sum("discarded" in line for line in app.logs()) == 1
