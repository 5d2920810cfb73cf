"""The Wi-Fi link (mqtt_as.wlan) on a fake `network` module, on both runtimes."""

from pathlib import Path

HERE = Path(__file__).parent


def test_wifi_link_joins_rejoins_and_reports_failures_clearly(mosquitto, runtime, run_py):
    proc = run_py(runtime, HERE / "wlan_app.py", str(mosquitto.port))
    assert proc.wait(timeout=30) == 0, proc.output()
    for name in ("joins_then_connects", "never_joins_is_a_clear_error"):
        assert "ok " + name in proc.output()
    assert "ok no_network_module_is_a_clear_error" in proc.output()
