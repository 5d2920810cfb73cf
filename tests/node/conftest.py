"""Fixtures for the node tests: a node started as its own process from a config file we write."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import REPO, Proc

NODES = Path(__file__).parent / "nodes"


@dataclass
class Node:
    proc: Proc
    device_id: str
    folder: Path
    home: str = "home"

    def topic(self, sub: str) -> str:
        """The node's device topic `<home>/<id>/<sub>`."""
        return f"{self.home}/{self.device_id}/{sub}"

    def log_topic(self, level: str = "+") -> str:
        return f"{self.home}/log/{level}/{self.device_id}"


def config_text(options: dict[str, Any]) -> str:
    return "".join(f"{name} = {value!r}\n" for name, value in options.items())


@pytest.fixture
def start_node(run_py: Callable[..., Proc], tmp_path: Path) -> Callable[..., Node]:
    """Factory: ``start_node(runtime, broker, components=None, **options) -> Node``.

    Writes config.py (test defaults, then ``options``) into a folder of its own, copies
    ``tests/node/nodes/<components>.py`` beside it as components.py, and runs
    ``main.py --config <folder>/config.py``. ``broker`` may be None (set MQTT_HOST/PORT).
    """
    count = 0

    def start(
        runtime: str,
        broker: Any,
        components: str | None = None,
        heapsize: int | str | None = None,
        env: dict[str, str] | None = None,
        device_id: str | None = None,
        folder: Path | None = None,
        **options: Any,
    ) -> Node:
        nonlocal count
        count += 1
        folder = folder or tmp_path / f"node{count}"
        folder.mkdir(exist_ok=True)
        device_id = device_id or f"t{secrets.token_hex(3)}"
        settings: dict[str, Any] = {
            "DEVICE_NAME": device_id,
            "MQTT_KEEPALIVE": 10,
            "RTC_SYNC_ACTIVE": False,
            "WATCHDOG_TIMEOUT": 30,
        }
        if broker is not None:
            settings |= {"MQTT_HOST": broker.host, "MQTT_PORT": broker.port}
        settings |= options
        (folder / "config.py").write_text(config_text(settings))
        if components:
            shutil.copy(NODES / f"{components}.py", folder / "components.py")
        proc = run_py(
            runtime,
            REPO / "main.py",
            "--config",
            str(folder / "config.py"),
            heapsize=heapsize,
            env=env,
            cwd=folder,
        )
        return Node(proc, device_id, folder, settings.get("MQTT_HOME", "home"))

    return start
