"""Fixtures for the SmartServer tests: the real `smartserver` process against a real broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import Proc, free_port
from smartserver_helpers import (
    _LOGS,
    ALLOW,
    GOOD,
    HERE,
    SECRET,
    Server,
    attach,
    run_cli,
    server_env,
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        for title, read in item.stash.get(_LOGS, []):
            try:
                text = read()
            except Exception as e:  # a report must never fail because a log is unreadable
                text = f"<could not read: {e}>"
            report.sections.append((title, text[-8000:] or "<empty>"))
    return report


@pytest.fixture
def config_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "devices.hjson").write_text("{\n  living: node1\n}\n")
    (folder / "living.hjson").write_text(GOOD)
    return folder


@pytest.fixture
def start_server(tmp_path: Path, request):
    """start_server(broker, folder, *extra_args) -> Server, connected to the broker."""
    procs: list[Proc] = []

    def start(broker, folder: Path, *extra: str, secret: bool = True) -> Server:
        store = tmp_path / f"store{len(procs)}.db"
        if secret:
            done = run_cli("secret", "node1", "--set", SECRET, "--store", str(store))
            assert done.returncode == 0, done.stderr
        port = free_port()
        args = [
            "serve",
            "-c",
            str(folder),
            "--store",
            str(store),
            "--allow-package",
            ALLOW,
            "--broker",
            f"127.0.0.1:{broker.port}",
            "--http",
            f"127.0.0.1:{port}",
            "--poll",
            "0.2",
            *extra,
        ]
        env = server_env()
        if broker.user:  # the password by environment variable, as the docs advise
            args += ["--user", broker.user]
            env["SMARTSERVER_MQTT_PASSWORD"] = broker.password
        if broker.tls:
            args += ["--tls-ca", str(broker.tls.ca_file)]
        proc = Proc("cpython", HERE / "server_app.py", *args, env=env)
        procs.append(proc)
        attach(request, f"smartserver pid {proc.pid} output", proc.output)
        proc.wait_line("connected to mqtt", timeout=20)
        return Server(proc, folder, store, port)

    yield start
    for proc in procs:
        proc.stop()


@pytest.fixture
def fake_node(request):
    """fake_node(broker, device_id) -> Proc of tests/smartserver/fake_node.py (connected)."""
    procs: list[Proc] = []

    def start(broker, device: str = "node1", *auth: str) -> Proc:
        proc = Proc("cpython", HERE / "fake_node.py", str(broker.port), "home", device, *auth)
        procs.append(proc)
        attach(request, f"fake node {device} output", proc.output)
        proc.wait_line("connected", timeout=20)
        return proc

    yield start
    for proc in procs:
        proc.stop()


@pytest.fixture
def browser(request, tmp_path):
    """Headless Chromium (Debian's chromium + chromium-driver) driven by selenium. When the
    test fails, a screenshot (its path) and the page's text are in the report."""
    from harness import require_tool
    from harness.tools import missing

    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("python package 'selenium'", "pip install selenium (or -e .[test])")
    hint = "apt-get install chromium chromium-driver"
    chromium = require_tool("chromium", hint)
    driver_path = require_tool("chromedriver", hint)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,900",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(20)
    shots: list[str] = []

    def screenshot() -> str:
        path = tmp_path / f"page-{len(shots)}.png"
        driver.save_screenshot(str(path))
        shots.append(str(path))
        return f"screenshot: {path}\nurl: {driver.current_url}\n\n{driver.find_element('tag name', 'body').text}"

    attach(request, "browser page at failure", screenshot)
    yield driver
    driver.quit()
