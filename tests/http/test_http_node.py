"""Logs, log level and reboot over HTTP."""

from __future__ import annotations


def test_the_log_tail_holds_the_last_lines_and_filters_by_level(runtime, mosquitto, http_node):
    node = http_node(runtime, mosquitto, log_lines=3)
    node.proc.wait_line("connected to")  # the start-up's last line: none comes between ours
    node.request("POST", "/api/v1/entities/bell/press")
    node.proc.wait_line("bell: ring")
    status, logs = node.request("GET", "/api/v1/logs")
    assert status == 200
    assert [line["text"] for line in logs["lines"]][-2:] == ["pressed", "ring"]
    assert len(logs["lines"]) == 3
    node.request("POST", "/api/v1/entities/nope/on")  # nothing logged at warning or above ...
    assert node.request("GET", "/api/v1/logs?level=warning")[1] == {"lines": []}


def test_the_log_level_set_over_http_takes_effect(runtime, mosquitto, http_node):
    node = http_node(runtime, mosquitto)
    node.request("POST", "/api/v1/entities/lamp/on")
    node.request("POST", "/api/v1/entities/lamp/off")
    mark = node.proc.mark()
    assert "relay on" not in node.proc.output()  # info: no debug lines
    assert node.request("PUT", "/api/v1/logging/level", {"level": "debug"}) == (200, {"level": 10})
    node.request("POST", "/api/v1/entities/lamp/on")
    node.proc.wait_line("[debug] lamp: relay on", after=mark)


def test_reboot_over_http_ends_the_node_for_its_supervisor(runtime, mosquitto, http_node):
    node = http_node(runtime, mosquitto)
    assert node.request("POST", "/api/v1/reboot") == (202, {"rebooting": True})
    assert node.proc.wait(timeout=10) != 0
    assert "restart requested over HTTP" in (node.folder / "reset_reason.txt").read_text()
