"""The web page of `smartserver serve`: in a real browser (headless Chromium), and its guards."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

from harness import free_port
from smartserver_helpers import run_cli

try:  # without selenium the browser fixture skips (fails under CI=true) the browser tests
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    By = WebDriverWait = None


def _state(driver, device):
    # read in one script: the live table re-renders rows, so a found element can go stale
    return driver.execute_script(
        "const td = document.querySelector(arguments[0]); return td ? td.textContent : null;",
        f"#dev-{device} td[data-field=availability]",
    )


def _row(driver, device):
    return driver.execute_script(
        "const tr = document.getElementById(arguments[0]);"
        "return tr ? [tr.innerText, !tr.hidden] : null;",
        f"dev-{device}",
    )


def test_the_fleet_page_shows_a_node_going_offline_within_seconds(
    mosquitto, config_folder, start_server, fake_node, browser
):
    server = start_server(mosquitto, config_folder)
    node = fake_node(mosquitto, "node1")
    other = fake_node(mosquitto, "node7")
    browser.get(server.url + "/")
    wait = WebDriverWait(browser, 10, poll_frequency=0.1)
    wait.until(lambda d: _state(d, "node1") == "online" and _state(d, "node7") == "online")
    row = _row(browser, "node1")[0]
    assert "living" in row and "7.0.0.dev0" in row and "10.0.0.7" in row and "watchdog" in row
    node.kill()  # no page reload from here on: the event stream must bring it
    wait.until(lambda d: _state(d, "node1") == "lost")
    assert _state(browser, "node7") == "online"
    browser.find_element(By.ID, "filter").send_keys("lost")
    wait.until(lambda d: _row(d, "node7")[1] is False)
    assert _row(browser, "node1")[1] is True
    other.kill()


def test_the_device_page_shows_logs_and_config_and_pushes_on_a_click(
    mosquitto, observer, config_folder, start_server, fake_node, browser
):
    server = start_server(mosquitto, config_folder)
    node = fake_node(mosquitto, "node1")
    node.wait_line("got home/login/node1", timeout=15)
    browser.get(server.url + "/device/node1")
    wait = WebDriverWait(browser, 10, poll_frequency=0.1)
    wait.until(lambda d: "last reset: watchdog" in d.find_element(By.ID, "logs").text)
    assert "living_temp" in browser.find_element(By.ID, "config").text
    assert "# the living room" in browser.find_element(By.ID, "config").text  # the file as is
    obs = observer(mosquitto)
    obs.publish("home/log/error/node1", "[pump] dry run", qos=1)  # arrives on the open page
    obs.publish("home/log/error/node2", "[other] not this device", qos=1)
    wait.until(lambda d: "dry run" in d.find_element(By.ID, "logs").text)
    assert "not this device" not in browser.find_element(By.ID, "logs").text
    mark = node.mark()
    browser.find_element(By.ID, "push").click()
    wait.until(lambda d: "sent (counter" in d.find_element(By.ID, "msg").text)
    node.wait_line("got home/login/node1", timeout=10, after=mark)
    wait.until(lambda d: "web" in d.find_element(By.ID, "pushes").text)


def _get(url, headers=None, method="GET"):
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_the_web_page_off_loopback_needs_a_password(tmp_path, config_folder):
    done = run_cli(
        "serve",
        "-c",
        str(config_folder),
        "--store",
        str(tmp_path / "s.db"),
        "--http",
        f"0.0.0.0:{free_port()}",
        "--broker",
        "127.0.0.1:1",
    )
    assert done.returncode == 2
    assert "needs a password" in done.stderr


def test_a_password_a_loopback_host_and_a_header_guard_the_web_page(
    mosquitto, config_folder, start_server
):
    server = start_server(mosquitto, config_folder, "--http-password", "pw-123")
    url = server.url + "/api/devices"
    good = {"Authorization": "Basic " + base64.b64encode(b"admin:pw-123").decode()}
    bad = {"Authorization": "Basic " + base64.b64encode(b"admin:wrong").decode()}
    assert _get(url)[0] == 401
    assert _get(url, bad)[0] == 401
    status, body = _get(url, good)
    assert status == 200 and [d["id"] for d in json.loads(body)] == ["node1"]
    assert _get(url, {**good, "Host": "evil.example:80"})[0] == 421  # DNS rebinding
    push = server.url + "/api/devices/node1/push"
    assert _get(push, good, "POST")[0] == 403  # a cross-site form cannot add the header
    status, body = _get(push, {**good, "X-SmartServer": "1"}, "POST")
    assert status == 409  # nothing is sent to a node that is not online
    assert json.loads(body)["message"] == "node1 is unknown: it gets its config at its next login"


def test_a_flood_of_logs_does_not_crowd_device_changes_out_of_the_fleet_stream():
    from smartserver.service import Hub

    hub = Hub()
    fleet, device_page = hub.subscribe(), hub.subscribe(logs_of="node1")
    for i in range(5000):
        hub.publish("log", {"device": "node1" if i % 2 else "node2", "message": str(i)})
    hub.publish("device", {"id": "node1", "availability": "lost"})
    assert fleet.get_nowait() == ("device", {"id": "node1", "availability": "lost"})
    events = [device_page.get_nowait() for _ in range(device_page.qsize())]
    assert len(events) == 1000  # bounded: the newest are dropped, the server goes on
    assert {e[1]["device"] for e in events} == {"node1"}
