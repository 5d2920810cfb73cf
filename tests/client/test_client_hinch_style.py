"""An mqtt_as application, written as Peter Hinch documents it, switches by its import alone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

APP = Path(__file__).with_name("hinch_app.py")
RETAINED = "(b'foo_topic', b'on', True)"
LIVE = "(b'foo_topic', b'live', False)"


@pytest.mark.parametrize("style", ["callbacks", "events"])
def test_a_hinch_style_application_runs_unchanged(
    broker, runtime, run_py, fault_proxy, observer, style
):
    obs = observer(broker)
    obs.publish("foo_topic", "on", qos=1, retain=True)
    obs.subscribe("result")
    proxy = fault_proxy(broker)
    app = run_py(runtime, APP, str(proxy.port), style)
    up_line = "Wifi is  up" if style == "callbacks" else "We are connected to broker."
    down_line = "Wifi is  down" if style == "callbacks" else "WiFi or broker is down."
    app.wait_line(up_line, timeout=15)
    app.wait_line(RETAINED, timeout=10)
    obs.wait_message("result", b"0", timeout=10)
    # An outage: down, then up; connect_coro / client.up subscribe again, which must not
    # bring the retained message twice
    proxy.drop()
    down = app.wait_line(down_line, timeout=10)
    app.wait_line(up_line, after=down.index, timeout=15)
    mark = obs.mark()
    obs.wait_message("result", after=mark, timeout=10)  # publishing goes on
    obs.publish("foo_topic", "live", qos=1)
    app.wait_line(LIVE, after=down.index, timeout=10)
    time.sleep(0.5)  # a second SUBSCRIBE's retained copy would be in by now
    assert app.lines.count(RETAINED) == 2, app.tail()  # once per connection
    assert app.lines.count(LIVE) == 1
    results = list(dict.fromkeys(m.payload for m in obs.messages if m.topic == "result"))
    assert results == [str(i).encode() for i in range(len(results))]  # in order, none lost
