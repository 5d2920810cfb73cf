"""The demo node (`python main.py --demo`) against a broker named by the environment: what Home
Assistant gets from it is the unix components, in a payload our rules and HA's schemas take."""

from __future__ import annotations

import pytest
from harness import REPO
from harness.ha_rules import validate_device_discovery

pytestmark = pytest.mark.xdist_group("demo-ports")  # the demo takes 1883 and 8080 when free

DEMO_ENTITIES = ("cpu_load_m1", "cpu_load_m5", "cpu_load_m15", "memory_used", "memory_available",
                 "disk_used", "disk_free", "uptime", "network", "lamp", "refresh")  # fmt: skip


@pytest.mark.skipif((REPO / "config.py").exists(), reason="a config.py in the repo root")
def test_demo_with_mqtt_host_runs_on_that_broker_and_is_discovered(mosquitto, run_py, observer, tmp_path, ha_validate):  # fmt: skip
    obs = observer(mosquitto)
    obs.subscribe("homeassistant/device/demo/config")
    obs.subscribe("home/demo/#")
    env = {"PYSMARTNODE_MQTT_HOST": mosquitto.host, "PYSMARTNODE_MQTT_PORT": str(mosquitto.port)}
    proc = run_py("cpython", REPO / "main.py", "--demo", env=env, cwd=tmp_path)
    config = obs.wait_message("homeassistant/device/demo/config", timeout=30)
    assert "embedded MQTT broker" not in proc.output()
    cmps = config.json()["cmps"]
    for key in DEMO_ENTITIES:
        assert key in cmps, sorted(cmps)
    assert validate_device_discovery(config.topic, config.payload) == []
    assert ha_validate([(config.topic, config.payload)]) == []
    obs.wait_message("home/demo/cpu_load", timeout=30)  # and it publishes there
