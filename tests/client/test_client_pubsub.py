"""The client's everyday work on both runtimes against both brokers: publish, subscribe, will."""

from __future__ import annotations

import signal
import time

import pytest
from client_app import DriverError


def test_qos0_and_qos1_publishes_reach_a_subscriber_with_their_retain_flag(
    broker, observer, client_app
):
    obs = observer(broker)
    obs.subscribe("pub/#", qos=1)
    app = client_app(broker)
    app.call("connect")
    assert app.call("publish", topic="pub/zero", msg="a", qos=0) is True
    assert app.call("publish", topic="pub/one", msg="b", qos=1, retain=True) is True
    assert obs.wait_message("pub/zero").payload == b"a"
    assert obs.wait_message("pub/one").payload == b"b"
    late = observer(broker)
    late.subscribe("pub/one")
    msg = late.wait_message("pub/one")
    assert msg.retain and msg.payload == b"b"


@pytest.mark.parametrize("qos", [0, 1], ids=["qos0", "qos1"])
def test_subscription_delivers_messages_and_reports_the_granted_qos(
    broker, observer, client_app, qos
):
    app = client_app(broker)
    app.call("connect")
    assert app.call("subscribe", topic="in/x", qos=qos) == qos
    obs = observer(broker)
    obs.publish("in/x", b"\x00\xffbinary", qos=1)
    assert app.wait_messages(1)[0] == ("in/x", b"\x00\xffbinary", False)


def test_retained_message_arrives_with_the_retained_flag(broker, observer, client_app):
    observer(broker).publish("keep/state", "ON", qos=1, retain=True)
    app = client_app(broker)
    app.call("connect")
    app.call("subscribe", topic="keep/#", qos=1)
    assert app.wait_messages(1)[0] == ("keep/state", b"ON", True)


def test_unsubscribe_stops_delivery(broker, observer, client_app):
    app = client_app(broker)
    app.call("connect")
    app.call("subscribe", topic="u/a", qos=1)
    app.call("subscribe", topic="u/b", qos=1)
    app.call("unsubscribe", topic="u/a")
    obs = observer(broker)
    obs.publish("u/a", "gone", qos=1)
    obs.publish("u/b", "here", qos=1)  # ordered after u/a: once it arrives, u/a would have
    app.wait_messages(1)
    assert app.messages() == [("u/b", b"here", False)]


def test_subscribing_again_with_another_callback_is_an_error_and_keeps_the_first(
    broker, observer, client_app
):
    app = client_app(broker)
    app.call("connect")
    app.call("subscribe", topic="again/x", qos=1, cb=True)
    with pytest.raises(DriverError) as err:
        app.call("subscribe", topic="again/x", qos=1, cb=True)  # a new callback object
    assert err.value.name == "ValueError" and "already has a callback" in err.value.text
    observer(broker).publish("again/x", "1", qos=1)
    assert app.wait_messages(1, src="again/x") == [("again/x", b"1", False)]


def test_wildcard_filters_dispatch_to_every_matching_callback_once(broker, observer, client_app):
    app = client_app(broker)
    app.call("connect")
    for f in ("a/+/c", "a/#", "a/b/c", "+/x", "sport/#"):
        app.call("subscribe", topic=f, qos=1, cb=True)
    obs = observer(broker)
    obs.publish("a/b/c", "1", qos=1)
    obs.publish("sport/tennis", "2", qos=1)
    app.wait_messages(1, src="sport/#")  # published last: the a/b/c copies are in by now
    # subs_cb sees each copy the broker sends once: mosquitto sends one per client however
    # many filters match; amqtt sends one per matching subscription
    copies = [m[0] for m in app.messages()].count("a/b/c")
    assert copies == (1 if broker.kind == "mosquitto" else 3)
    # and each copy reaches every matching filter's callback exactly once
    for f in ("a/+/c", "a/#", "a/b/c"):
        assert app.messages(f) == [("a/b/c", b"1", False)] * copies, f
    assert app.messages("+/x") == []
    assert app.messages("sport/#") == [("sport/tennis", b"2", False)]


@pytest.mark.parametrize("size", [65536, 200_000], ids=["64KiB", "195KiB"])
def test_large_payloads_cross_in_both_directions(broker, observer, client_app, size):
    obs = observer(broker)
    obs.subscribe("big/out")
    app = client_app(broker)
    app.call("connect")
    app.call("subscribe", topic="big/in", qos=1)
    assert app.call("publish", topic="big/out", size=size, qos=1) is True
    assert obs.wait_message("big/out", timeout=20).payload == bytes(size)
    payload = bytes(range(256)) * (size // 256)
    obs.publish("big/in", payload, qos=1)
    # Delivered as its last byte comes, not when the next packet arrives (the PINGRESP, 15 s
    # on): 8 s, loopback, is ample
    assert app.wait_messages(1, timeout=8)[0][1] == payload


def test_utf8_topics_and_payloads_round_trip(broker, observer, client_app):
    topic = "home/küche/温度"
    app = client_app(broker)
    app.call("connect")
    app.call("subscribe", topic="home/+/温度", qos=1)
    obs = observer(broker)
    obs.subscribe("home/#")
    app.call("publish", topic=topic, msg="21,5 °C", qos=1)
    assert obs.wait_message(topic).payload.decode() == "21,5 °C"
    assert app.wait_messages(1)[0][:2] == (topic, "21,5 °C".encode())


def test_last_will_is_published_when_the_client_dies(broker, observer, client_app):
    obs = observer(broker)
    obs.subscribe("will/#")
    app = client_app(broker, will=["will/node", "offline", True, 1], keepalive=5)
    app.call("connect")
    app.proc.send_signal(signal.SIGKILL)
    msg = obs.wait_message("will/node", timeout=15)
    assert msg.payload == b"offline"


def test_a_clean_disconnect_sends_no_will_and_connect_works_again(broker, observer, client_app):
    obs = observer(broker)
    obs.subscribe("will/#")
    obs.subscribe("again/#")
    app = client_app(broker, will=["will/node", "offline", False, 1])
    app.call("connect")
    app.call("disconnect")
    assert app.call("status")["connected"] is False
    app.call("connect")
    app.call("publish", topic="again/x", msg="back", qos=1)
    obs.wait_message("again/x")
    assert obs.count("will/#") == 0


def test_disconnect_right_after_a_qos0_burst_delivers_it_all_and_sends_no_will(
    broker, observer, client_app
):
    """What publish() accepted before disconnect() reaches the broker, and so does the
    DISCONNECT: the close that follows it must not drop what is still buffered."""
    obs = observer(broker)
    obs.subscribe("will/#")
    obs.subscribe("burst/#")
    app = client_app(broker, will=["will/node", "offline", False, 1])
    app.call("connect")
    # as many as it takes for the broker to fall behind, so bytes wait in our buffer (amqtt,
    # slower to read, falls behind sooner)
    n = 10000 if broker.kind == "mosquitto" else 3000
    results = app.call(
        "publish_many", topic="burst/x", n=n, qos=0, size=64, same_topic=True,
        then_disconnect=True,
    )  # fmt: skip
    assert results == [True] * n
    last = obs.wait_message("burst/x", lambda m: m.payload.startswith(b"%d." % (n - 1)), 30)
    assert last.payload == (b"%d" % (n - 1)).ljust(64, b".")
    time.sleep(0.5)  # a will would come right after the broker saw the socket close
    assert obs.count("will/#") == 0


def test_connecting_to_a_closed_port_raises_a_clear_oserror(runtime, client_app):
    from harness import free_port

    app = client_app(port=free_port(), response_time=3)
    with pytest.raises(DriverError) as err:
        app.call("connect")
    assert err.value.name == "MQTTError" and err.value.oserror
    assert "cannot connect to 127.0.0.1" in err.value.text


def test_a_broker_that_never_sends_connack_fails_connect_after_response_time(runtime, client_app):
    import socket

    silent = socket.socket()  # completes the TCP handshake (backlog), then says nothing
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        app = client_app(port=silent.getsockname()[1], response_time=1)
        with pytest.raises(DriverError) as err:
            app.call("connect", timeout=10)  # a connect without a deadline never returns
        assert err.value.name == "MQTTError" and err.value.oserror
        assert "cannot connect to 127.0.0.1" in err.value.text
        assert app.call("status")["connected"] is False
    finally:
        silent.close()


def test_subscribe_before_connect_is_a_clear_error(runtime, client_app):
    app = client_app(port=1)
    with pytest.raises(DriverError, match="call connect"):
        app.call("subscribe", topic="x")


def test_callback_that_raises_is_logged_and_later_messages_still_arrive(
    broker, observer, client_app
):
    app = client_app(broker, fail_topics=["cb/bad"])
    app.call("connect")
    app.call("subscribe", topic="cb/#", qos=1)
    obs = observer(broker)
    obs.publish("cb/bad", "x", qos=1)
    obs.publish("cb/good", "y", qos=1)
    assert app.wait_messages(1)[0][:2] == ("cb/good", b"y")
    assert any("callback raised RuntimeError" in line for line in app.logs())
    assert app.call("status")["stats"]["callback_errors"] == 1


def test_close_cancels_every_task_the_client_started(broker, client_app, runtime):
    app = client_app(broker)
    before = app.call("all_tasks") if runtime == "cpython" else None
    app.call("connect")
    app.call("subscribe", topic="t/#", cb=True)
    # the supervisor (the watchdog too), and on MicroPython the reader (CPython reads in its
    # protocol)
    assert app.call("status")["tasks"] >= (2 if runtime == "micropython" else 1)
    app.call("close")
    assert app.call("status")["tasks"] == 0
    if runtime == "cpython":
        assert app.call("all_tasks") == before  # nothing else lingers in the loop


def test_a_task_the_client_cancels_or_that_ends_is_let_go_at_once(broker, client_app):
    # A cancelled or finished task the client still references keeps its frame on the heap
    # (on MicroPython the session-restore watchdog's, for the connection's whole life)
    app = client_app(broker)
    app.call("connect")
    app.call("subscribe", topic="kept/in", qos=1)
    app.call("publish", topic="kept/out", msg="x", qos=1)
    status = app.call("status")
    # Nothing ended is still held: the wrappers of the async wifi_coro and connect_coro, done,
    # let go at their end (their finished frames held what the callbacks' did), and a task the
    # client cancels is let go at once
    assert status["tasks"] >= 1 and status["held"] == status["tasks"]


def test_event_interface_queues_messages_and_counts_only_real_losses(broker, observer, client_app):
    app = client_app(broker, queue_len=3)
    app.call("connect")
    assert app.call("queue_info")["up"] is True
    app.call("subscribe", topic="ev/#", qos=1)
    obs = observer(broker)
    obs.publish("ev/1", "a", qos=1)
    assert app.wait_messages(1, src="queue")[0][:2] == ("ev/1", b"a")
    assert app.messages() == []  # subs_cb is not used in this mode
    app.call("queue_info", slow=2)  # the consumer now dawdles 2 s after each message
    obs.publish("ev/2", "b", qos=1)
    app.wait_messages(2, src="queue")
    for i in range(3, 9):  # 6 more while the consumer sleeps: 3 fit, the 3 oldest are lost
        obs.publish("ev/%d" % i, "x", qos=1)
    deadline = time.monotonic() + 10
    while app.call("queue_info")["discards"] < 3:
        assert time.monotonic() < deadline, "overflow not counted"
        time.sleep(0.05)
    app.call("queue_info", slow=0)
    got = [m[0] for m in app.wait_messages(5, src="queue", timeout=15)]
    assert got == ["ev/1", "ev/2", "ev/6", "ev/7", "ev/8"]
    assert app.call("queue_info")["discards"] == 3


def test_broker_up_is_true_on_a_live_link_and_false_without_one(broker, fault_proxy, client_app):
    proxy = fault_proxy(broker)
    app = client_app(proxy, keepalive=60, ping_interval=30, response_time=1)
    assert app.call("broker_up") is False  # never connected
    app.call("connect")
    assert app.call("broker_up") is True
    time.sleep(1.1)  # nothing received for a second: broker_up must ask with a PINGREQ
    assert app.call("broker_up") is True
    proxy.freeze()
    time.sleep(1.1)
    assert app.call("broker_up") is False  # the PINGREQ goes unanswered
    proxy.thaw()


def _pieces(n, size):
    return b"".join(bytes([i % 256]) * size for i in range(n))


@pytest.mark.parametrize("qos", [0, 1], ids=["qos0", "qos1"])
@pytest.mark.parametrize("n,size", [(3, 100), (40, 300)], ids=["small", "12KB"])
def test_a_chunked_payload_is_written_piece_by_piece_and_arrives_whole(
    broker, observer, client_app, qos, n, size
):
    # publish() takes an object with len() whose iteration makes the payload's pieces (the
    # node's discovery payload): the subscriber gets them joined, each piece made once per send
    obs = observer(broker)
    obs.subscribe("chunk/#", qos=1)
    app = client_app(broker)
    app.call("connect")
    result = app.call("publish_chunked", topic="chunk/x", n=n, size=size, qos=qos)
    assert result == [True, 1]
    assert obs.wait_message("chunk/x").payload == _pieces(n, size)
    assert app.call("publish", topic="chunk/after", msg="next", qos=1) is True
    assert obs.wait_message("chunk/after").payload == b"next"


@pytest.mark.parametrize("runtime", ["micropython"])  # the unix port's heap can be fragmented
@pytest.mark.parametrize("qos", [0, 1], ids=["qos0", "qos1"])
def test_a_payload_goes_out_whole_from_a_heap_with_no_block_for_header_and_payload(
    broker, observer, client_app, runtime, qos
):
    # A node's status report (~350 bytes) after the first connect: the heap is full and in
    # small holes. The packet is written whole all the same, with no copy of header and payload
    obs = observer(broker)
    obs.subscribe("frag/#", qos=1)
    app = client_app(broker, heapsize="256k")
    app.call("connect")
    assert app.call("publish_fragmented", topic="frag/x", size=600, hole=256, qos=qos) is True
    assert obs.wait_message("frag/x").payload == bytes(600)
    assert app.call("publish", topic="frag/after", msg="next", qos=1) is True
    assert obs.wait_message("frag/after").payload == b"next"


@pytest.mark.parametrize("length", [250, 400], ids=["fewer-bytes-said", "more-bytes-said"])
def test_a_chunked_payload_of_the_wrong_length_is_cut_or_padded_and_the_link_stays(
    broker, observer, client_app, length
):
    # pieces adding up to 300 bytes under a len() of `length`: the packet must still be the
    # length its header says, else the stream is out of step and the link dies
    obs = observer(broker)
    obs.subscribe("bad/#", qos=1)
    app = client_app(broker)
    app.call("connect")
    assert app.call("publish_chunked", topic="bad/x", n=3, size=100, length=length, qos=1) == [
        True,
        1,
    ]
    assert obs.wait_message("bad/x").payload == (_pieces(3, 100) + b" " * 100)[:length]
    assert app.call("publish", topic="bad/after", msg="next", qos=1) is True
    assert obs.wait_message("bad/after").payload == b"next"
    assert app.call("status")["stats"]["reconnects"] == 0
    assert any("chunked payload of 300 bytes, not len() %d" % length in t for t in app.logs())
