"""The node's web page in a real browser (Debian's chromium and chromium-driver, selenium)."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest
from harness import REPO

PAGE = REPO / "pysmartnode" / "components" / "net" / "http_page.html"


def test_the_served_page_is_the_gzipped_source():
    assert gzip.decompress(Path(f"{PAGE}.gz").read_bytes()) == PAGE.read_bytes()


def test_the_page_needs_nothing_from_the_internet():
    html = PAGE.read_text()
    assert "http://" not in html and "https://" not in html and "//cdn" not in html


def test_the_node_serves_the_page_gzipped(runtime, mosquitto, http_node):
    import urllib.request

    node = http_node(runtime, mosquitto)
    req = urllib.request.Request(node.url + "/", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        assert r.headers["Content-Type"].startswith("text/html")
        assert gzip.decompress(r.read()) == PAGE.read_bytes()


@pytest.fixture(scope="module")
def browser():
    """Headless chromium driven by chromium-driver (skipped without them, failed in CI)."""
    chromedriver = shutil.which("chromedriver")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromedriver or not chromium:
        message = "needs Debian's chromium and chromium-driver (apt-get install them)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-proxy-server", "--window-size=420,800"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    yield driver
    driver.quit()


def _button_state(browser, entity_id):
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.CSS_SELECTOR, f"#entity-{entity_id} button")
    return found[0].get_attribute("data-state") if found else None


def test_the_page_shows_a_state_change_made_over_mqtt(runtime, mosquitto, http_node, observer,
                                                      browser):  # fmt: skip
    from selenium.webdriver.support.ui import WebDriverWait

    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")
    browser.get(node.url + "/")
    WebDriverWait(browser, 10).until(lambda b: _button_state(b, "lamp") == "OFF")
    obs.publish(node.topic("lamp/set"), "ON")
    WebDriverWait(browser, 5).until(lambda b: _button_state(b, "lamp") == "ON")
    assert browser.find_element("id", "link").text == "live"


def test_a_click_on_a_switch_turns_it_and_mqtt_sees_it(runtime, mosquitto, http_node, observer,
                                                       browser):  # fmt: skip
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")
    browser.get(node.url + "/")
    WebDriverWait(browser, 10).until(lambda b: _button_state(b, "lamp") == "OFF")
    mark = obs.mark()
    browser.find_element(By.CSS_SELECTOR, "#entity-lamp button").click()
    obs.wait_message(node.topic("lamp"), b"ON", after=mark)
    WebDriverWait(browser, 5).until(lambda b: _button_state(b, "lamp") == "ON")
    mark = node.proc.mark()
    browser.find_element(By.CSS_SELECTOR, "#entity-bell button").click()
    node.proc.wait_line("bell: ring", after=mark)
    WebDriverWait(browser, 5).until(lambda b: "ring" in b.find_element("id", "log").text)


def _field(browser, key):
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.CSS_SELECTOR, f"input[name='{key}'], select[name='{key}']")
    return found[0] if found else None


def _field_error(browser, key):
    from selenium.webdriver.common.by import By

    return _field(browser, key).find_element(By.XPATH, "../../td[@class='err']").text


def test_parameters_are_edited_on_the_page_and_validated_by_the_node(runtime, mosquitto,
                                                                    http_node, observer,
                                                                    browser):  # fmt: skip
    import json

    from selenium.webdriver.support.ui import WebDriverWait

    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto)
    obs.subscribe(node.topic("params"))
    obs.wait_message(node.topic("params"))
    browser.get(node.url + "/")
    WebDriverWait(browser, 10).until(lambda b: _field(b, "thermostat.target") is not None)
    target = _field(browser, "thermostat.target")
    assert target.get_attribute("value") == "21"
    assert _field(browser, "thermostat.mode").get_attribute("value") == "eco"
    # in the form, not a second time among the entities
    assert browser.find_elements("id", "entity-system_thermostat_target") == []
    assert browser.find_elements("id", "entity-lamp") != []
    # a change made elsewhere shows on the page
    obs.publish(node.topic("params/set"), json.dumps({"thermostat.target": 22.5}))
    WebDriverWait(browser, 5).until(lambda b: target.get_attribute("value") == "22.5")
    # an edit on the page is applied and published
    mark = obs.mark()
    target.clear()
    target.send_keys("23.5")
    browser.find_element("id", "psave").click()
    published = obs.wait_message(node.topic("params"), after=mark).json()
    assert published["thermostat.target"] == 23.5
    assert node.request("GET", "/api/v1/params")[1]["thermostat.target"] == 23.5
    WebDriverWait(browser, 5).until(lambda b: b.find_element("id", "pmsg").text == "saved")
    # an invalid value: the node's error next to the field, nothing changes
    mark = obs.mark()
    target.clear()
    target.send_keys("99")
    browser.find_element("id", "psave").click()
    WebDriverWait(browser, 5).until(
        lambda b: "above the maximum" in _field_error(b, "thermostat.target")
    )
    assert target.get_attribute("value") == "99"  # what the user typed stays, to correct it
    with pytest.raises(AssertionError):
        obs.wait_message(node.topic("params"), after=mark, timeout=1)
    assert node.request("GET", "/api/v1/params")[1]["thermostat.target"] == 23.5
