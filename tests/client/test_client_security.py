"""Credentials, TLS and refusals: clear errors, no secrets in logs, no retry storms."""

from __future__ import annotations

import time

import pytest
from client_app import DriverError
from harness import make_tls_files


def test_the_right_password_connects(mosquitto_auth, client_app):
    app = client_app(mosquitto_auth)
    app.call("connect")
    assert app.call("publish", topic="auth/ok", msg="1", qos=1) is True


def test_a_wrong_password_is_a_clear_refusal_that_is_not_retried_and_not_logged(
    mosquitto_auth, fault_proxy, client_app
):
    proxy = fault_proxy(mosquitto_auth)
    secret = "not-the-password-" + mosquitto_auth.password
    app = client_app(proxy, user=mosquitto_auth.user, password=secret)
    with pytest.raises(DriverError) as err:
        app.call("connect")
    assert err.value.name == "MQTTRefused"
    assert err.value.code in (4, 5)  # bad user name or password / not authorised
    assert "refused the connection" in err.value.text
    time.sleep(1.5)  # a window in which a retrying client would have come back
    assert proxy.connections == 1
    assert secret not in app.proc.output() + "".join(app.logs()) + err.value.text


def test_no_user_on_a_broker_that_wants_one_is_refused(mosquitto_auth, client_app):
    app = client_app(port=mosquitto_auth.port)
    with pytest.raises(DriverError) as err:
        app.call("connect")
    assert err.value.name == "MQTTRefused"


def tls_params(broker, ca_der=None):
    return {
        "ssl": True,
        "ssl_params": {
            "cadata_hex": (ca_der or broker.tls.ca_der).hex(),
            "server_hostname": broker.tls.server_hostname,
        },
    }


@pytest.mark.parametrize("form", ["der", "pem"])
def test_tls_with_the_brokers_ca_connects_publishes_and_receives(
    mosquitto_tls, observer, client_app, form
):
    ca = mosquitto_tls.tls.ca_der if form == "der" else mosquitto_tls.tls.ca_pem.encode()
    app = client_app(mosquitto_tls, **tls_params(mosquitto_tls, ca))
    app.call("connect")
    app.call("subscribe", topic="tls/in", qos=1)
    obs = observer(mosquitto_tls)
    obs.subscribe("tls/out")
    assert app.call("publish", topic="tls/out", msg="secret", qos=1) is True
    assert obs.wait_message("tls/out").payload == b"secret"
    obs.publish("tls/in", "back", qos=1)
    assert app.wait_messages(1)[0][:2] == ("tls/in", b"back")


def test_tls_with_an_unknown_ca_is_refused(mosquitto_tls, client_app, tmp_path):
    stranger = make_tls_files(tmp_path / "other-ca")
    app = client_app(mosquitto_tls, response_time=5, **tls_params(mosquitto_tls, stranger.ca_der))
    with pytest.raises(DriverError) as err:
        app.call("connect")
    assert err.value.oserror


def test_a_refused_subscription_reaches_the_caller(make_broker, client_app):
    # amqtt's taboo plugin answers SUBSCRIBE "prohibited" with the failure code 0x80
    # (mosquitto 2.0 grants ACL-denied subscriptions and then delivers nothing)
    taboo = {"plugins": {"amqtt.plugins.topic_checking.TopicTabooPlugin": {}}}
    broker = make_broker("amqtt", extra_config=taboo)
    app = client_app(broker)
    app.call("connect")
    with pytest.raises(DriverError) as err:
        app.call("subscribe", topic="prohibited", qos=1)
    assert err.value.name == "MQTTSubscribeError" and err.value.oserror
    assert app.call("subscribe", topic="open/x", qos=1) == 1  # the link is still fine


def test_a_refusal_on_reconnect_is_logged_and_retried_with_growing_pauses(
    mosquitto_auth, client_app
):
    broker = mosquitto_auth
    app = client_app(broker, keepalive=4, ping_interval=1, response_time=1)
    app.call("connect")
    broker.stop()
    broker.password = "changed-" + broker.password  # the client still has the old one
    broker._write_password_file()
    broker.start()
    app.wait_event(lambda e: e["ev"] == "log" and "refused the connection" in e["text"], timeout=10)
    start = broker.log_text().count("New connection from")
    time.sleep(3)  # a window in which a tight loop would reconnect hundreds of times
    attempts = broker.log_text().count("New connection from") - start
    assert attempts <= 1, "%d attempts in 3 s after a refusal" % attempts
    assert app.call("status")["connected"] is False


def client_certificate(tls, directory, openssl="openssl"):
    """A client key and certificate signed by the test CA (PEM files)."""
    import subprocess
    from pathlib import Path

    ca_dir = Path(tls.ca_file).parent
    directory.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for args in (
        ["req", *ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=node"],
        ["x509", "-req", "-in", "client.csr", "-CA", str(ca_dir / "ca.pem"), "-CAkey",
         str(ca_dir / "ca.key"), "-CAcreateserial", "-out", "client.pem", "-days", "2"],
    ):  # fmt: skip
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True)
    return directory / "client.pem", directory / "client.key"


def test_mutual_tls_with_a_pem_client_certificate_connects(
    make_broker, client_app, runtime, tmp_path
):
    broker = make_broker("mosquitto", tls=True, extra_config="require_certificate true")
    cert, key = client_certificate(broker.tls, tmp_path / "client")
    params = tls_params(broker)
    params["ssl_params"].update(certfile=str(cert), keyfile=str(key))
    app = client_app(broker, **params)
    app.call("connect")
    assert app.call("publish", topic="mtls/x", msg="1", qos=1) is True


def test_a_tls_configuration_error_raises_at_construction(runtime, client_app, tmp_path):
    with pytest.raises(DriverError) as err:
        client_app(port=1, ssl=True, ssl_params={"certfile": str(tmp_path / "missing.pem")})
    assert err.value.name == "ValueError"
