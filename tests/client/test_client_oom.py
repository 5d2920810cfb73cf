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


# ---- connections that die of MemoryError: a heap too full to live connected


def test_connections_that_die_of_memory_error_right_after_connack_count_on(mosquitto, client_app):
    # Every connection comes up and dies of MemoryError at the watchdog's next tick. Each counts
    # as an attempt lost to it, so oom_cb's n rises to the application's limit. (Each connect
    # started the count again: the client flapped for ever, oom_cb never called)
    app = client_app(mosquitto, oom_link=True, **FAST)
    app.call("connect")
    app.call("oom_link", dying=True)
    status = wait_status(app, lambda st: len(st["oom"]) >= 5)
    assert status["oom"][:5] == [1, 2, 3, 4, 5], status
    assert status["stats"]["reconnects"] >= 4  # the attempts connected: the deaths were counted


def count_again_after(app, between):
    # The count rises with young deaths, then between() makes a connection end another way; the
    # next deaths count from 1 again
    app.call("connect")
    app.call("oom_link", dying=True)
    wait_status(app, lambda st: len(st["oom"]) >= 2)
    app.call("oom_link")  # heap enough again: the next connection lives
    up = wait_status(app, lambda st: st["connected"])
    seen = len(up["oom"])
    between(up)
    app.call("oom_link", dying=True)
    oom = wait_status(app, lambda st: len(st["oom"]) >= seen + 2)["oom"]
    assert oom[seen : seen + 2] == [1, 2], oom


def test_a_connection_that_lasted_starts_the_count_of_deaths_again(mosquitto, client_app):
    app = client_app(mosquitto, oom_link=True, **FAST)
    # The rule is the connection's age (10 s); no event of the client marks it
    count_again_after(app, lambda up: time.sleep(10.5))


def test_a_young_connection_that_died_otherwise_starts_the_count_of_deaths_again(
    mosquitto, fault_proxy, client_app
):
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, oom_link=True, **FAST)

    def broker_side_close(up):  # young, but an EOF, not a MemoryError
        reconnects = up["stats"]["reconnects"]
        proxy.drop()
        wait_status(app, lambda st: st["connected"] and st["stats"]["reconnects"] > reconnects)

    count_again_after(app, broker_side_close)


# ---- what oom_cb raises

RAISED = "error: oom_cb raised RuntimeError: oom_cb failure requested by the test"


def test_an_oom_cb_that_raises_is_logged_once_an_outage_and_the_client_reconnects(
    mosquitto, fault_proxy, client_app
):
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, oom_link=True, **FAST)
    app.call("connect")
    app.call("oom_raises", kind="RuntimeError")

    def outage(n):  # the n-th: oom_cb raises 3 times in it, then the heap is back
        seen, mark = len(app.call("status")["oom"]), len(app.events)
        app.call("oom_link", on=True)
        proxy.drop()
        wait_status(app, lambda st: len(st["oom"]) >= seen + 3)
        app.wait_event(lambda e: e["ev"] == "log" and "oom_cb" in e["text"], start=mark)
        app.call("oom_link")
        wait_status(app, lambda st: st["connected"] and st["stats"]["reconnects"] >= n)
        assert app.logs().count(RAISED) == n, app.logs()

    outage(1)
    outage(2)


def test_an_oom_cb_that_raises_system_exit_ends_the_program(mosquitto, fault_proxy, client_app):
    # A reset: it must pass through the client
    proxy = fault_proxy(mosquitto)
    app = client_app(proxy, oom_link=True, **FAST)
    app.call("connect")
    app.call("oom_raises", kind="SystemExit")
    app.call("oom_link", on=True)
    proxy.drop()
    assert app.proc.wait(timeout=15) == 3, app.proc.output()
