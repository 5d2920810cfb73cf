"""Fixtures for the client tests."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "external_modules"))

from client_app import DRIVER_APP, ClientApp  # noqa: E402


@pytest.fixture
def client_app(run_py, runtime):
    """Factory: client_app(broker_or_host_port, **config) -> ClientApp with a new MQTTClient."""
    apps = []

    def make(
        broker=None,
        *,
        host=None,
        port=None,
        fail_topics=(),
        log_fails=False,
        count_resolves=False,
        heapsize=None,
        **config,
    ):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(20)
        proc = run_py(runtime, DRIVER_APP, str(server.getsockname()[1]), heapsize=heapsize)
        try:
            conn, _ = server.accept()
        except TimeoutError:
            raise AssertionError("driver app did not connect; output:\n" + proc.output()) from None
        finally:
            server.close()
        app = ClientApp(proc, conn)
        apps.append(app)
        app.wait_event(lambda e: e["ev"] == "ready", timeout=20)
        cfg = {"server": host or "127.0.0.1", "client_id": "app-%d" % id(app)}
        if broker is not None:
            cfg["port"] = broker.port
            if broker.user:
                cfg["user"], cfg["password"] = broker.user, broker.password
        if port is not None:
            cfg["port"] = port
        cfg.update(config)
        app.client_id = cfg["client_id"]
        app.call(
            "new",
            config=cfg,
            fail_topics=list(fail_topics),
            log_fails=log_fails,
            count_resolves=count_resolves,
        )
        return app

    yield make
    for app in apps:
        app.close()
