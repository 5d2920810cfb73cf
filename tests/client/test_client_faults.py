"""Faults injected for real: frozen and dropped links, broker restarts, garbage on the wire."""

from __future__ import annotations

import re
import time

import pytest

FAST = {"keepalive": 4, "ping_interval": 1, "response_time": 1}


def went_down(e):
    return e["ev"] == "state" and e["up"] is False


def came_up(e):
    return e["ev"] == "state" and e["up"] is True


def wait_reconnected(app, timeout=15):
    """Wait for an outage and the reconnect after it; returns the index after the reconnect."""
    down = app.wait_event(went_down, timeout=timeout)
    app.wait_event(came_up, start=app.events.index(down), timeout=timeout)
    return len(app.events)


def test_frozen_link_is_declared_dead_within_ping_interval_plus_response_time(
    broker, fault_proxy, client_app
):
    proxy = fault_proxy(broker)
    app = client_app(proxy, **FAST)
    app.call("connect")
    proxy.freeze()
    # ping after 1 s of silence, no answer within 1 s: dead; 4 s leaves room for a slow CI box
    app.wait_event(went_down, timeout=4)
    assert "PINGREQ" in app.call("status")["stats"]["last_fault"]


def test_keepalive_pings_only_when_the_link_is_idle(mosquitto, client_app):
    app = client_app(mosquitto, **FAST)
    app.call("connect")

    def pings():
        return mosquitto.log_text().count("Received PINGREQ from " + app.client_id)

    before = pings()
    app.call("publish_paced", topic="busy/x", n=25, every=0.1)  # 2.5 s, never 1 s quiet
    assert pings() == before
    deadline = time.monotonic() + 5
    while pings() == before:  # idle now: a PINGREQ within ping_interval (1 s)
        assert time.monotonic() < deadline, "no PINGREQ on an idle link"
        time.sleep(0.05)


def test_client_reconnects_and_resubscribes_after_a_broker_restart(broker, observer, client_app):
    app = client_app(broker, **FAST)
    app.call("connect")
    app.call("subscribe", topic="re/sub", qos=1)
    broker.restart(down_seconds=0.5)
    wait_reconnected(app)
    obs = observer(broker)
    obs.publish("re/sub", "after", qos=1)
    assert app.wait_messages(1)[0][:2] == ("re/sub", b"after")
    stats = app.call("status")["stats"]
    assert stats["reconnects"] == 1 and stats["downtime"] > 0


def test_qos1_publishes_made_while_the_broker_is_down_arrive_after_it_returns(
    broker, observer, client_app
):
    app = client_app(broker, **FAST)
    app.call("connect")
    broker.stop()
    app.wait_event(went_down)
    cid = app.start("publish_many", topic="q", n=5, qos=1, retain=True)
    broker.start()
    assert app.result(cid, timeout=20) == [True] * 5
    obs = observer(broker)
    obs.subscribe("q/#")
    got = {obs.wait_message(f"q/{i}").payload for i in range(5)}
    assert got == {b"0", b"1", b"2", b"3", b"4"}


def test_unacknowledged_qos1_is_resent_with_its_packet_id_and_dup_set(
    mosquitto, fault_proxy, observer, client_app
):
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, clean=False, clean_init=True, **FAST)
    app.call("connect")
    obs = observer(mosquitto)
    obs.subscribe("dup/#")
    proxy.freeze()  # the PUBLISH stays in the proxy's socket buffer, never reaching the broker
    cid = app.start("publish", topic="dup/x", msg="once", qos=1)
    app.wait_event(went_down, timeout=6)
    # Thawed, the proxy delivers the first copy on the dead connection (whose PUBACK is lost),
    # then the client re-sends on the new one: the broker sees at least two copies
    proxy.thaw()
    assert app.result(cid, timeout=15) is True
    assert obs.wait_message("dup/x").payload == b"once"
    received = _broker_copies(mosquitto, "dup/x")
    assert received[-1][0] == "1", "the re-sent PUBLISH carries DUP"
    assert len({mid for _, mid in received}) == 1, "every copy carries the same packet id"


def test_a_late_puback_brings_a_resend_on_the_same_connection(
    mosquitto, fault_proxy, observer, client_app
):
    # The watchdog re-sends (DUP, same id) a QoS 1 message whose PUBACK is response_time late,
    # on the same connection, up to max_repubs times before it calls the link dead; a link
    # that answers again after one re-send is kept (no ping is due: keepalive 60 s)
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, keepalive=60, response_time=2)
    app.call("connect")
    proxy.freeze()  # silence both ways: no PUBACK
    cid = app.start("publish", topic="late/x", msg="once", qos=1)
    time.sleep(3.2)  # one re-send after 2 s, the next not before 4 s
    proxy.thaw()
    assert app.result(cid, timeout=15) is True
    received = _broker_copies(mosquitto, "late/x")
    assert received[0][0] == "0" and received[1][0] == "1", received
    assert len({mid for _, mid in received}) == 1, "every copy carries the same packet id"
    stats = app.call("status")["stats"]
    assert stats["faults"] == 0 and stats["reconnects"] == 0, stats


def test_an_unacknowledged_chunked_qos1_payload_is_made_again_for_its_resend(
    mosquitto, fault_proxy, observer, client_app
):
    # A chunked payload (publish() of a len() + pieces object) is never kept whole: the
    # re-send after the link died iterates it again and the broker gets the same bytes
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, clean=False, clean_init=True, **FAST)
    app.call("connect")
    obs = observer(mosquitto)
    obs.subscribe("cdup/#", qos=1)
    proxy.freeze()
    cid = app.start("publish_chunked", topic="cdup/x", n=20, size=300, qos=1)
    app.wait_event(went_down, timeout=6)
    proxy.thaw()
    result, made = app.result(cid, timeout=15)
    assert result is True and made >= 2
    expected = b"".join(bytes([i]) * 300 for i in range(20))
    assert obs.wait_message("cdup/x").payload == expected


def test_a_chunked_qos1_payload_whose_link_dies_in_its_write_is_sent_again_and_acknowledged(
    mosquitto, fault_proxy, client_app
):
    # The link stalls in the middle of a chunked QoS 1 payload (the proxy reads nothing, the
    # socket buffers fill): the watchdog calls it dead while the payload is being written, the
    # publish waits on (the message stays in flight), and after the reconnect the payload is
    # made again, re-sent and acknowledged: publish() returns True, it raises nothing
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, clean=False, clean_init=True, **FAST)
    app.call("connect")
    proxy.freeze()
    cid = app.start("publish_chunked", topic="cstall/x", n=512, size=65536, qos=1)  # 32 MiB
    app.wait_event(went_down, timeout=15)
    proxy.thaw()
    result, made = app.result(cid, timeout=60)
    assert result is True and made >= 2
    assert "write progress" in app.call("status")["stats"]["last_fault"]  # died in the write


def test_broker_closing_the_connection_leads_to_a_reconnect(broker, fault_proxy, client_app):
    proxy = fault_proxy(broker)
    app = client_app(proxy, **FAST)
    app.call("connect")
    app.call("subscribe", topic="x/#")
    proxy.drop()
    wait_reconnected(app)
    assert "closed by the broker" in app.call("status")["stats"]["last_fault"]
    assert app.call("publish", topic="x/after", msg="1", qos=1) is True


def test_a_fault_the_reader_sees_wakes_the_supervisor_at_once(broker, fault_proxy, client_app):
    # ping_interval and response_time 20 s: the supervisor, which is also the watchdog, naps
    # 5 s between ticks; a dropped link must not wait for the end of that nap
    proxy = fault_proxy(broker)
    app = client_app(proxy, keepalive=60, ping_interval=20, response_time=20)
    app.call("connect")
    start = len(app.events)
    proxy.drop()  # well inside the first 5 s nap
    down = app.wait_event(went_down, start=start, timeout=3)
    app.wait_event(came_up, start=app.events.index(down), timeout=3)


@pytest.mark.parametrize(
    "garbage",
    [
        b"\xf0\x00",
        b"\x20\x02\x00\x00",
        b"\x30\xff\xff\xff\xff\x7f",
        b"\x90\x01\x00",
        b"\x90\x02\x00\x01",  # an id and no return code: read as a stray ack it passed
    ],
    ids=[
        "reserved-type",
        "second-connack",
        "five-byte-length",
        "suback-too-short",
        "suback-no-code",
    ],
)
def test_a_malformed_packet_is_a_link_fault_followed_by_a_clean_reconnect(
    broker, fault_proxy, client_app, garbage
):
    proxy = fault_proxy(broker)
    app = client_app(proxy, **FAST)
    app.call("connect")
    proxy.corrupt(garbage)
    wait_reconnected(app)
    assert app.call("publish", topic="m/after", msg="1", qos=1) is True


def test_eof_in_the_middle_of_a_packet_is_a_link_fault(broker, fault_proxy, client_app):
    proxy = fault_proxy(broker)
    app = client_app(proxy, **FAST)
    app.call("connect")
    proxy.corrupt(b"\x30\x40\x00\x03abc")  # announces 64 bytes, sends 6
    proxy.drop()
    wait_reconnected(app)
    assert app.call("status")["connected"] is True


def test_an_unexpected_puback_is_counted_and_ignored(broker, fault_proxy, client_app):
    proxy = fault_proxy(broker)
    app = client_app(proxy, **FAST)
    app.call("connect")
    proxy.corrupt(b"\x40\x02\x12\x34")
    assert app.call("publish", topic="p/x", msg="1", qos=1) is True  # ordered after the PUBACK
    status = app.call("status")
    assert status["stats"]["stray_acks"] == 1
    assert status["stats"]["faults"] == 0


def test_offline_queue_drops_superseded_state_first_then_the_oldest(broker, observer, client_app):
    app = client_app(broker, out_queue_len=3, **FAST)
    app.call("connect")
    broker.stop()
    app.wait_event(went_down)
    order = [("a", "1"), ("b", "1"), ("a", "2"), ("c", "1"), ("b", "2")]
    cids = [app.start("publish", topic="s/" + t, msg=v, qos=1, retain=True) for t, v in order]
    # the commands run in order in the client; once the queue is full and two are dropped,
    # every publish has been queued
    deadline = time.monotonic() + 10
    while app.call("status")["stats"]["dropped"] < 2:
        assert time.monotonic() < deadline, "the publishes were not queued"
    broker.start()
    results = [app.result(cid, timeout=20) for cid in cids]
    # a/1 made room for c/1 (oldest, nothing newer on its topic); b/1 was superseded by b/2
    assert results == [False, False, True, True, True]
    assert app.call("status")["stats"]["dropped"] == 2
    obs = observer(broker)
    obs.subscribe("s/#")
    assert {t: obs.wait_message("s/" + t).payload for t in "abc"} == {
        "a": b"2",
        "b": b"2",
        "c": b"1",
    }


def test_a_memory_error_while_reporting_a_fault_still_leads_to_a_reconnect(
    broker, fault_proxy, client_app
):
    proxy = fault_proxy(broker)
    app = client_app(proxy, log_fails=True, **FAST)  # every log call raises MemoryError
    app.call("connect")
    proxy.drop()
    wait_reconnected(app)
    assert app.call("publish", topic="m/after", msg="1", qos=1) is True


@pytest.mark.parametrize("runtime", ["micropython"])  # a small heap makes the MemoryError
def test_a_message_too_big_for_the_heap_is_discarded_not_a_deaf_client_or_a_fault(
    mosquitto, observer, client_app, runtime
):
    app = client_app(mosquitto, heapsize="256k", **FAST)
    app.call("connect")
    app.call("subscribe", topic="mem/#", qos=0)
    obs = observer(mosquitto)
    obs.publish("mem/huge", bytes(1_000_000), qos=0)
    obs.publish("mem/small", "ok", qos=0)
    assert app.wait_messages(1, timeout=20)[-1][:2] == ("mem/small", b"ok")
    stats = app.call("status")["stats"]
    assert stats["discarded"] == 1 and stats["faults"] == 0


@pytest.mark.parametrize("runtime", ["micropython"])  # the unix port's heap can be used up
def test_a_memory_error_in_a_client_task_faults_the_link_and_the_client_reconnects(
    mosquitto, fault_proxy, client_app, runtime
):
    # The link drops while there is no heap for 2 s: every client task that allocates meanwhile
    # gets a MemoryError (the reader at the EOF, the supervisor reconnecting, its backoff). None
    # of them may die: the client must be connected again afterwards, not hang with no task
    # left to reconnect it.
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, **FAST)
    app.call("connect")
    starve = app.start("starve", ms=2000)
    app.wait_event(lambda e: e["ev"] == "starving")
    proxy.drop()
    app.result(starve)
    deadline = time.monotonic() + 20
    status = app.call("status")
    while time.monotonic() < deadline and not (status["connected"] and status["stats"]["faults"]):
        time.sleep(0.2)
        status = app.call("status")
    assert status["stats"]["faults"] >= 1, status  # the drop was seen, and counted
    assert status["connected"], status
    assert app.call("publish", topic="mem/after", msg="1", qos=1) is True


def _broker_copies(mosquitto, topic):
    # (dup flag, packet id) of each QoS 1 PUBLISH of `topic` the broker logged, once it logged
    # two at least (5 s at most)
    pattern = r"Received PUBLISH from app-\d+ \(d(\d), q1, r0, m(\d+), '%s'" % re.escape(topic)
    deadline = time.monotonic() + 5
    while len(re.findall(pattern, mosquitto.log_text())) < 2:
        assert time.monotonic() < deadline, "the broker saw one copy only: no re-send"
        time.sleep(0.05)
    return re.findall(pattern, mosquitto.log_text())
