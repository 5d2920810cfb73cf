"""oom_cb: connect attempts lost to MemoryError are counted in a row, for the application."""

from __future__ import annotations

import time

import pytest

FAST = {"keepalive": 4, "ping_interval": 1, "response_time": 1}
# A CONNECT of over 4 KiB: on a heap fragmented into 512-byte holes no attempt can build it
BIG_CONNECT = {"user": "app", "password": "p" * 4096}


def wait_status(app, pred, timeout=20):
    deadline = time.monotonic() + timeout
    status = app.call("status")
    while not pred(status):
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
        status = app.call("status")
    return status


def counted_in_a_row_and_again_from_1_after_a_connect(app, proxy, starve):
    # starve(on): from now on every connect attempt fails with MemoryError, or none does
    app.call("connect")
    assert app.call("status")["oom"] == []  # a good connect calls nothing
    starve(True)
    proxy.drop()
    wait_status(app, lambda st: len(st["oom"]) >= 3)
    starve(False)
    back = wait_status(app, lambda st: st["connected"] and st["stats"]["reconnects"] >= 1)
    seen = len(back["oom"])
    assert back["oom"] == list(range(1, seen + 1))  # 1, 2, 3...: one call per attempt
    starve(True)
    proxy.drop()
    again = wait_status(app, lambda st: len(st["oom"]) >= seen + 2)["oom"]
    assert again[seen : seen + 2] == [1, 2], again  # from 1 again after the connect
    starve(False)
    wait_status(app, lambda st: st["connected"] and st["stats"]["reconnects"] >= 2)


def test_memory_errors_in_a_row_are_counted_and_a_connect_starts_again_from_1(
    mosquitto, fault_proxy, client_app
):
    # The app's link object raises MemoryError in up() while told to: either runtime
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, oom_link=True, **FAST)
    counted_in_a_row_and_again_from_1_after_a_connect(
        app, proxy, lambda on: app.call("oom_link", on=on)
    )


@pytest.mark.parametrize("runtime", ["micropython"])  # the unix port's heap can be fragmented
def test_a_heap_with_no_block_for_the_connect_packet_is_counted_the_same(
    mosquitto, fault_proxy, client_app, runtime
):
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, heapsize="256k", **BIG_CONNECT, **FAST)
    counted_in_a_row_and_again_from_1_after_a_connect(
        app, proxy, lambda on: app.call("fragment", on=on, hole=512)
    )


def test_an_attempt_that_fails_otherwise_starts_the_count_again(mosquitto, fault_proxy, client_app):
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, oom_link=True, **FAST)
    app.call("connect")
    app.call("oom_link", on=True)
    proxy.drop()
    wait_status(app, lambda st: len(st["oom"]) >= 2)
    proxy.refuse(True)  # accepted and closed at once: an EOF, not a MemoryError
    connections = proxy.connections
    app.call("oom_link", on=False)
    proxy.wait_connections(connections + 1, timeout=10)
    seen = len(app.call("status")["oom"])
    app.call("oom_link", on=True)
    oom = wait_status(app, lambda st: len(st["oom"]) >= seen + 2)["oom"]
    assert oom[seen - 1] >= 2 and oom[seen : seen + 2] == [1, 2], oom


@pytest.mark.parametrize("runtime", ["micropython"])  # the unix port's heap can be fragmented
def test_a_session_restore_with_no_block_for_its_subscribe_is_counted_as_starved_too(
    mosquitto, fault_proxy, client_app, runtime
):
    # The CONNECT fits, the restore's SUBSCRIBE (a 4 KiB topic) does not: the broker takes
    # each attempt, and the session restore fails for want of heap. Such attempts count as
    # starved too; were they taken for good connects, the client would flap (online, the will,
    # online...) for ever and oom_cb would never reach its limit
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, heapsize="256k", clean=True, **FAST)
    app.call("connect")
    app.call("subscribe", topic_len=4096, qos=1)
    connections = proxy.connections
    app.call("fragment", on=True, hole=512)
    proxy.drop()
    proxy.wait_connections(connections + 2, timeout=20)  # the broker takes the attempts
    oom = wait_status(app, lambda st: len(st["oom"]) >= 3)["oom"]
    assert oom[:3] == [1, 2, 3], oom
    app.call("fragment", on=False)
    wait_status(app, lambda st: st["connected"] and st["stats"]["reconnects"] >= 1)
