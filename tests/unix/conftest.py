"""A node started as its own process from a config.py and a components.py we write."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import REPO, Proc


@dataclass
class Node:
    proc: Proc
    device_id: str
    folder: Path

    def topic(self, sub: str) -> str:
        return f"home/{self.device_id}/{sub}"

    @property
    def discovery_topic(self) -> str:
        return f"homeassistant/device/{self.device_id}/config"


@pytest.fixture
def node_with(run_py: Callable[..., Proc], tmp_path: Path) -> Callable[..., Node]:
    """Factory: ``node_with(runtime, broker, components_py_text, folder=None) -> Node``."""
    count = 0

    def start(runtime: str, broker: Any, components: str, folder: Path | None = None) -> Node:
        nonlocal count
        count += 1
        folder = folder or tmp_path / f"node{count}"
        folder.mkdir(exist_ok=True)
        device_id = f"t{secrets.token_hex(3)}"
        settings = {
            "DEVICE_NAME": device_id,
            "MQTT_HOST": broker.host,
            "MQTT_PORT": broker.port,
            "MQTT_KEEPALIVE": 10,
            "RTC_SYNC_ACTIVE": False,
            "WATCHDOG_TIMEOUT": 30,
        }
        text = "".join(f"{k} = {v!r}\n" for k, v in settings.items())
        (folder / "config.py").write_text(text)
        (folder / "components.py").write_text(components)
        proc = run_py(runtime, REPO / "main.py", "--config", str(folder / "config.py"), cwd=folder)
        return Node(proc, device_id, folder)

    return start
