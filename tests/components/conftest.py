"""Shared by the component tests: the catalog of classes, a clean in-process node state."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from harness import REPO

for _root in (str(REPO), str(REPO / "external_modules")):
    if _root not in sys.path:  # the in-process tests import the device code
        sys.path.insert(0, _root)
_FAKES = str(REPO / "tests" / "fakes")  # fake machine, onewire, dht: the examples' hardware
if _FAKES not in sys.path:  # last: only what no real module provides
    sys.path.append(_FAKES)


@pytest.fixture(scope="module", autouse=True)
def fake_hardware_modules() -> Iterator[dict]:
    """The fake `machine` (and `neopixel`) of tests/fakes for the in-process builds."""
    import fake_hardware

    yield fake_hardware.load()
    fake_hardware.unload()


@pytest.fixture
def clean_node() -> Iterator[object]:
    """pysmartnode.node with no components (in-process tests), restored afterwards."""
    from pysmartnode import node

    saved = (node.mqtt, node.status, node.discovery, dict(node.components), dict(node.failed))
    node.mqtt = node.status = node.discovery = None
    node.components.clear()
    node.failed.clear()
    yield node
    node.mqtt, node.status, node.discovery = saved[:3]
    node.components.clear()
    node.components.update(saved[3])
    node.failed.clear()
    node.failed.update(saved[4])


@pytest.fixture
def component_node(run_py, tmp_path):
    """Factory: ``component_node(runtime, broker, components, folder=None, env=None,
    **options)`` starts a node whose components.py holds ``COMPONENTS = components``
    (testparts.py beside it); returns (proc, device_id, folder). Options go to config.py, env
    to the process (fake_hardware.node_env() for the hardware fakes)."""
    import secrets
    import shutil
    from pathlib import Path

    parts = Path(__file__).parent / "parts" / "testparts.py"

    def start(runtime, broker, components, folder=None, device_id=None, env=None, **options):
        folder = folder or tmp_path / f"node-{secrets.token_hex(2)}"
        folder.mkdir(exist_ok=True)
        device_id = device_id or f"b{secrets.token_hex(3)}"
        settings = {
            "DEVICE_NAME": device_id,
            "MQTT_HOST": broker.host,
            "MQTT_PORT": broker.port,
            "MQTT_KEEPALIVE": 10,
            "RTC_SYNC_ACTIVE": False,
            "WATCHDOG_TIMEOUT": 30,
        } | options
        (folder / "config.py").write_text("".join(f"{k} = {v!r}\n" for k, v in settings.items()))
        (folder / "components.py").write_text(f"COMPONENTS = {components!r}\n")
        shutil.copy(parts, folder / "testparts.py")
        proc = run_py(runtime, REPO / "main.py", "--config", str(folder / "config.py"), cwd=folder,
                      env=env)  # fmt: skip
        return proc, device_id, folder

    return start
