"""GET /api/v1/events: snapshot, state changes, log lines, pings; slow clients dropped."""

from __future__ import annotations

import socket

import pytest
from harness import poll_until


def test_a_stream_starts_with_a_snapshot_of_every_entity(runtime, mosquitto, http_node,
                                                         event_stream):  # fmt: skip
    node = http_node(runtime, mosquitto)
    stream = event_stream(node.port)
    _, snapshot = stream.wait("snapshot")
    assert "text/event-stream" in stream.head
    assert snapshot["info"]["id"] == node.device_id
    assert {e["id"] for e in snapshot["entities"]} >= {"lamp", "bell", "meter_count"}


def test_a_state_change_made_over_mqtt_is_streamed(runtime, mosquitto, http_node, event_stream,
                                                   observer):  # fmt: skip
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")  # connected and subscribed
    stream = event_stream(node.port)
    i, _ = stream.wait("snapshot")
    obs.publish(node.topic("lamp/set"), "ON")
    _, lamp = stream.wait("state", lambda d: d["id"] == "lamp" and d["state"] == "ON", after=i)
    assert lamp["actions"] == ["on", "off", "toggle"]
    stream.wait("state", lambda d: d["id"] == "meter_count", after=i)  # sensors too


def test_log_lines_at_or_above_the_level_and_pings_are_streamed(runtime, mosquitto, http_node,
                                                                event_stream):  # fmt: skip
    node = http_node(runtime, mosquitto, ping=1)
    stream = event_stream(node.port, "/api/v1/events?level=warning")
    i, _ = stream.wait("snapshot")
    node.request("POST", "/api/v1/entities/bell/press")  # info lines: not streamed
    node.request("GET", "/api/v1/entities/nope", headers={"Authorization": "x"})
    node.request("POST", "/api/v1/entities/lamp/on", headers={"Origin": "http://evil"})
    node.request("POST", "/api/v1/reboot", headers={"Origin": "http://evil"})
    _, ping = stream.wait("ping", after=i)
    assert ping["uptime"] >= 0
    logs = [d for name, d in stream.events if name == "log"]
    assert all(d["level"] in ("warning", "error", "critical") for d in logs)
    assert not [d for d in logs if d["name"] == "bell"]


def test_more_streams_than_the_cap_get_503(runtime, mosquitto, http_node, event_stream):
    node = http_node(runtime, mosquitto, max_events=1)
    event_stream(node.port).wait("snapshot")
    assert node.request("GET", "/api/v1/events")[0] == 503
    assert node.request("GET", "/api/v1/info")[0] == 200  # a stream does not hold a request slot


def test_a_stream_that_never_reads_is_dropped_and_frees_its_memory(
    runtime, mosquitto, http_node, event_stream, observer
):
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto, timeout=2)
    node.request("POST", "/api/v1/entities/chatter/press")  # the log buffers full already
    warm = event_stream(node.port)  # what the first stream allocates once (imports) is not lost
    warm.wait("snapshot")
    warm.close()
    assert poll_until(lambda: node.request("GET", "/api/v1/info")[1]["http"]["events"] == 0, 10)
    info = node.request("GET", "/api/v1/info")[1]
    before, dropped = info["ram_free"], info["http"]["events_dropped"]
    stuck = event_stream(node.port, "/api/v1/events?level=info", rcvbuf=2048)
    for _ in range(6):  # 600 log lines of 1 kB: far more than the socket buffers hold
        assert node.request("POST", "/api/v1/entities/chatter/press")[0] == 200
    node.proc.wait_line("event stream from 127.0.0.1 closed", timeout=30)
    info = node.request("GET", "/api/v1/info")[1]
    assert info["http"]["events"] == 0 and info["http"]["events_dropped"] == dropped + 1
    stuck.close()
    obs.subscribe(node.topic("lamp"))  # MQTT still works
    obs.wait_message(node.topic("lamp"), b"OFF")
    mark = obs.mark()
    obs.publish(node.topic("lamp/set"), "ON")
    obs.wait_message(node.topic("lamp"), b"ON", after=mark)
    if runtime == "micropython":
        after = node.request("GET", "/api/v1/info")[1]["ram_free"]
        assert after >= before - 8192, (before, after)


@pytest.mark.parametrize("when", ["before-snapshot", "mid-stream"])
def test_a_client_that_vanishes_is_forgotten(runtime, mosquitto, http_node, event_stream, when):
    node = http_node(runtime, mosquitto, ping=1, max_events=1)
    stream = event_stream(node.port)
    if when == "mid-stream":
        stream.wait("snapshot")
    stream.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    stream.close()  # a reset, as when a phone walks out of Wi-Fi range
    assert poll_until(lambda: node.request("GET", "/api/v1/info")[1]["http"]["events"] == 0, 10)
    again = event_stream(node.port)  # the slot is free again
    again.wait("snapshot")
