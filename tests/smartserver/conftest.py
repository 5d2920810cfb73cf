"""Fixtures for the SmartServer tests: the real `smartserver` process against a real broker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO, Proc, free_port, import_roots

HERE = Path(__file__).resolve().parent
TOOLS = str(REPO / "tools")
if TOOLS not in sys.path:
    sys.path.append(TOOLS)  # appended: tools/build.py must not shadow a `build` package
SECRET = "test-secret-of-node1"
ALLOW = "testparts."

GOOD = """{
  # the living room
  living_temp: {
    package: testparts.parts
    component: Thermo
    constructor_args: {
      pin: 4         # GPIO
      interval: 30   # s
    }
  }
  fan: {
    package: testparts.parts
    component: Relay
    constructor_args: { pin: 5, sensor: { ref: "living_temp" } }
  }
}
"""


def server_env() -> dict[str, str]:
    return {"PYTHONPATH": ":".join([*import_roots(), TOOLS, str(HERE)])}


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`smartserver ARGS` as a process; returns the completed process (text output)."""
    return subprocess.run(
        [sys.executable, str(HERE / "server_app.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**__import__("os").environ, **server_env()},
        check=False,
    )


_LOGS = pytest.StashKey[list]()


def attach(request, title: str, read) -> None:
    """Show read() in the report when the test fails (also screenshots' paths)."""
    request.node.stash.setdefault(_LOGS, []).append((title, read))


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


class Server:
    def __init__(self, proc: Proc, folder: Path, store: Path, http_port: int) -> None:
        self.proc, self.folder, self.store, self.http_port = proc, folder, store, http_port
        self.url = f"http://127.0.0.1:{http_port}"

    def status(self) -> dict[str, dict]:
        done = run_cli(
            "status",
            "--json",
            "-c",
            str(self.folder),
            "--store",
            str(self.store),
            "--allow-package",
            ALLOW,
        )
        assert done.returncode == 0, done.stderr
        return {d["id"]: d for d in json.loads(done.stdout)}


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
        if broker.user:
            args += ["--user", broker.user, "--password", broker.password]
        proc = Proc("cpython", HERE / "server_app.py", *args, env=server_env())
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
