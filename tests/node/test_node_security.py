"""A node against a broker that wants a password, and over TLS."""

import pytest
from harness import make_tls_files


def test_node_logs_in_with_user_and_password(runtime, mosquitto_auth, start_node, observer):
    obs = observer(mosquitto_auth)
    obs.subscribe("home/#")
    node = start_node(
        runtime,
        mosquitto_auth,
        MQTT_USER=mosquitto_auth.user,
        MQTT_PASSWORD=mosquitto_auth.password,
    )
    assert obs.wait_message(node.topic("available"), b"online", timeout=15).payload == b"online"


def test_refused_login_is_logged_and_retried_without_the_password(
    runtime, mosquitto_auth, start_node
):
    node = start_node(runtime, mosquitto_auth, MQTT_USER="node", MQTT_PASSWORD="wrong-secret")
    first = node.proc.wait_line("broker unreachable", timeout=15)
    node.proc.wait_line("broker unreachable", after=first.index + 1)
    assert "refused" in first
    assert "wrong-secret" not in node.proc.output()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_node_connects_over_tls_verifying_the_broker(runtime, mosquitto_tls, start_node, observer, host):  # fmt: skip
    obs = observer(mosquitto_tls)
    obs.subscribe("home/#")
    node = start_node(
        runtime, mosquitto_tls, MQTT_HOST=host, MQTT_TLS=True, MQTT_TLS_CA=mosquitto_tls.tls.ca_file
    )
    assert obs.wait_message(node.topic("status"), timeout=20).json()["id"] == node.device_id


def test_node_refuses_a_tls_broker_signed_by_another_ca(
    runtime, mosquitto_tls, start_node, tmp_path
):
    other = make_tls_files(tmp_path / "other")
    node = start_node(
        runtime, mosquitto_tls, MQTT_HOST="localhost", MQTT_TLS=True, MQTT_TLS_CA=other.ca_file
    )
    first = node.proc.wait_line("broker unreachable", timeout=20)
    node.proc.wait_line("broker unreachable", after=first.index + 1)
    assert node.proc.returncode is None
