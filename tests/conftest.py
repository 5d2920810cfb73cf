"""Fixtures for every test: see tests/harness/__init__.py for what each one gives."""

from __future__ import annotations

import functools
import http.server
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# A shell starts a background job (`cmd &` without job control) with SIGINT ignored, and an
# ignored signal stays ignored across exec: every node the tests start would then shrug off the
# Ctrl-C the stop tests send. Taking SIGINT back here gives every child the default again.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:  # `from harness import ...` from any test file, any import mode
    sys.path.insert(0, _TESTS)

from harness import (  # noqa: E402
    KINDS,
    REPO,
    RUNTIMES,
    Broker,
    FaultProxy,
    Observer,
    Proc,
    TLSFiles,
    make_tls_files,
    micropython_path,
)
from harness.runtimes import run_py as _start_py  # noqa: E402

_LOG_TAIL = 8000
_failure_logs = pytest.StashKey[list[tuple[str, Callable[[], str]]]]()


def _attach_log(request: pytest.FixtureRequest, title: str, read: Callable[[], str]) -> None:
    """Show ``read()`` (its tail) in the report if the test fails."""
    request.node.stash.setdefault(_failure_logs, []).append((title, read))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    report = yield
    if report.when == "call" and report.failed:
        for title, read in item.stash.get(_failure_logs, []):
            try:
                text = read()
            except Exception as e:  # a report must never fail because a log is unreadable
                text = f"<could not read: {e}>"
            if len(text) > _LOG_TAIL:
                text = "...\n" + text[-_LOG_TAIL:]
            report.sections.append((title, text or "<empty>"))
    return report


# -- brokers -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A CA and a server certificate for localhost/127.0.0.1, made once per session."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def make_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """Factory: ``make_broker(kind, auth=False, tls=False, extra_config=None, start=True)``."""
    brokers: list[Broker] = []

    def make(
        kind: str,
        auth: bool = False,
        tls: bool = False,
        extra_config: str | dict[str, Any] | None = None,
        start: bool = True,
    ) -> Broker:
        certs = request.getfixturevalue("tls_certs") if tls else None
        broker = Broker(
            kind,
            tmp_path / f"{kind}-{len(brokers)}",
            auth=auth,
            tls=certs,
            extra_config=extra_config,
        )
        brokers.append(broker)
        _attach_log(request, f"{kind} log ({broker.log_path})", broker.log_text)
        if start:
            broker.start()
        return broker

    yield make
    errors = []
    for broker in brokers:
        try:
            broker.stop()
        except Exception as e:  # keep stopping the others; kill this one
            errors.append(f"{broker!r}: {e}")
            broker.stop(kill=True)
    assert not errors, f"broker teardown: {errors}"


@pytest.fixture(params=KINDS, ids=KINDS)
def broker(request: pytest.FixtureRequest, make_broker: Callable[..., Broker]) -> Broker:
    """A fresh anonymous broker of each kind."""
    return make_broker(request.param)


@pytest.fixture
def mosquitto(make_broker: Callable[..., Broker]) -> Broker:
    """A fresh anonymous mosquitto."""
    return make_broker("mosquitto")


@pytest.fixture
def amqtt(make_broker: Callable[..., Broker]) -> Broker:
    """A fresh anonymous amqtt."""
    return make_broker("amqtt")


@pytest.fixture
def mosquitto_auth(make_broker: Callable[..., Broker]) -> Broker:
    """mosquitto that only lets in ``.user`` ("node") with ``.password`` (random)."""
    return make_broker("mosquitto", auth=True)


@pytest.fixture
def mosquitto_tls(make_broker: Callable[..., Broker]) -> Broker:
    """mosquitto speaking TLS on its port; ``.tls`` has the CA (file, PEM, DER)."""
    return make_broker("mosquitto", tls=True)


# -- runtimes ----------------------------------------------------------------------------


@pytest.fixture(params=RUNTIMES, ids=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """``"cpython"`` or ``"micropython"`` (skipped, or failed in CI, if micropython is missing)."""
    if request.param == "micropython":
        micropython_path()
    return request.param


@pytest.fixture
def run_py(request: pytest.FixtureRequest) -> Iterator[Callable[..., Proc]]:
    """Factory: ``run_py(runtime, script, *args, heapsize=None, env=None, cwd=None) -> Proc``."""
    procs: list[Proc] = []

    def start(runtime: str, script: str | Path, *args: str, **options: Any) -> Proc:
        proc = _start_py(runtime, script, *args, **options)
        procs.append(proc)
        _attach_log(request, f"{runtime} {Path(script).name} pid {proc.pid} output", proc.output)
        return proc

    yield start
    for proc in procs:
        proc.stop()


# -- observer and proxy ------------------------------------------------------------------


@pytest.fixture
def observer() -> Iterator[Callable[..., Observer]]:
    """Factory: ``observer(broker_or_proxy, **options) -> Observer`` (connected)."""
    observers: list[Observer] = []

    def make(target: Any, **options: Any) -> Observer:
        obs = Observer(target, **options)
        observers.append(obs)
        return obs

    yield make
    for obs in observers:
        obs.close()


@pytest.fixture
def fault_proxy() -> Iterator[Callable[..., FaultProxy]]:
    """Factory: ``fault_proxy(broker) -> FaultProxy`` listening on a free 127.0.0.1 port."""
    proxies: list[FaultProxy] = []

    def make(target: Any, **options: Any) -> FaultProxy:
        proxy = FaultProxy(target, **options)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


# -- Home Assistant's own schemas (separate Python >= 3.13 venv, see harness/ha_check.py) ---


@pytest.hookimpl(tryfirst=True)  # the groups before xdist reads the xdist_group markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "ha_validate" in getattr(item, "fixturenames", ()):
            # the first use may build the HA venv: more than the default timeout
            item.add_marker(pytest.mark.timeout(1200))
        if any(item.iter_markers("soak")):
            # a soak runs SOAK_SECONDS (600 by default) or hundreds of stops: the default
            # 180 s cut every long one short
            item.add_marker(pytest.mark.timeout(3600))
        if not any(item.iter_markers("xdist_group")):
            group = _shared_fixture_group(item)
            if group:
                item.add_marker(pytest.mark.xdist_group(group))


# -- parallel runs (pytest-xdist) -----------------------------------------------------------
# ./test.sh runs the suite on several workers (-n, --dist loadgroup): each test goes to the
# next free worker, except that the tests of one xdist_group run on one worker, one after
# another. A test that needs something only one test may use at a time (a fixed port, like the
# demo's 1883 and 8080) says so with @pytest.mark.xdist_group("name"). The tests of a module
# that share a module-scoped fixture (a node, a broker, a browser, the results of one run of an
# app) are grouped here, one group per parameter of such fixtures: it is built once, not once
# per worker, and its tests see it in the order they were written, as in a serial run.


class _SlowFirst:
    """On a worker: the tests marked slow first, in their order, then the others (each worker
    orders alike, so the groups stay as they are), so that none of the longest starts last and
    leaves the other workers idle at the end of the run."""

    @pytest.hookimpl(trylast=True)  # after pytest's own order (by fixture parameters)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        config.pluginmanager.register(_SlowFirst(), "pysmartnode-slow-first")


def _shared_fixture_group(item: pytest.Item) -> str | None:
    """The group of a test that uses a module-scoped fixture (not autouse), else None: its
    module, and the parameter of each such fixture that has some."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    callspec = getattr(item, "callspec", None)
    shared, params = False, []
    for name in item.fixturenames:
        fixturedef = (info.name2fixturedefs.get(name) or [None])[-1]
        if (
            fixturedef is None
            or fixturedef.scope not in ("module", "class")
            or getattr(fixturedef, "_autouse", False)  # in-process set-up (fake modules)
        ):
            continue
        shared = True
        if callspec is not None and name in callspec.indices:
            params.append(f"{name}={callspec.indices[name]}")
    if not shared:
        return None
    # no "]" or "@" in a group's name: xdist finds the group after the last "@" behind any "]"
    return ":".join([item.nodeid.split("::")[0], *sorted(params)])


@pytest.fixture(scope="session")
def ha_validate() -> Callable[..., list[str]]:
    """``ha_validate([(topic, payload), ...]) -> problems`` ("<topic>: <problem>"; [] = valid)
    by Home Assistant's own discovery schemas. Skips without Python >= 3.13 (fails in CI)."""
    import os

    from harness import ha_check

    try:
        ha_check.ensure_venv()
    except ha_check.HAUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(str(e))
        pytest.skip(str(e))

    def validate(messages: list[tuple[str, str | bytes]]) -> list[str]:
        messages = list(messages)
        results = ha_check.validate(messages)
        pairs = zip(messages, results, strict=True)
        return [f"{m[0]}: {p}" for m, problems in pairs for p in problems]

    return validate


@pytest.fixture
def repo_server() -> Iterator[str]:
    """The repository over HTTP on 127.0.0.1, as GitHub serves it to mip: its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(REPO))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
