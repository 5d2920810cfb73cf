"""SUBSCRIBE/UNSUBSCRIBE acknowledgements: the watchdog keeps their deadline (no wait_for)."""

from __future__ import annotations


def test_a_subscribe_left_unanswered_faults_the_link_and_completes_after_the_reconnect(
    mosquitto, fault_proxy, client_app
):
    proxy = fault_proxy(mosquitto)
    # keepalive 60: no PINGREQ for 15 s, so only the missing SUBACK can fault the link here
    app = client_app(proxy, keepalive=60, response_time=1)
    app.call("connect")
    proxy.freeze()  # the SUBSCRIBE waits in the proxy: no SUBACK comes back
    cid = app.start("subscribe", topic="req/x", qos=1)
    app.wait_event(lambda e: e["ev"] == "state" and e["up"] is False, timeout=6)
    assert "SUBACK" in app.call("status")["stats"]["last_fault"]
    proxy.thaw()
    assert app.result(cid, timeout=15) == 1  # subscribed again on the next connection
