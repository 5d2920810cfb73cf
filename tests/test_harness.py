"""The harness itself: brokers, runtimes, observer and fault proxy do what tests rely on."""

from __future__ import annotations

import signal
import socket
import struct
import types

import pytest
from harness import (
    Broker,
    FaultProxy,
    Observer,
    heapsize_args,
    import_roots,
    is_listening,
    missing,
    runtimes,
)

TLS_SCRIPT = """
import asyncio
import ssl
import sys


async def main(ca_path, port, hostname):
    with open(ca_path, "rb") as f:
        ca_der = f.read()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=ca_der)
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname=hostname
        )
        writer.write(b"\\x10\\x0e\\x00\\x04MQTT\\x04\\x02\\x00\\x3c\\x00\\x02tl")
        await writer.drain()
        connack = await reader.read(4)
        writer.close()
    except Exception as e:  # MicroPython only verifies in the handshake, at the first write
        print("TLS failed:", type(e).__name__, e)
        sys.exit(2)
    print("CONNACK", connack[0] == 0x20 and connack[3] == 0)


asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
"""


def connect_packet(client_id: str = "raw", keepalive: int = 60) -> bytes:
    """An MQTT 3.1.1 CONNECT with a clean session."""
    cid = client_id.encode()
    body = (
        b"\x00\x04MQTT\x04\x02" + struct.pack("!H", keepalive) + struct.pack("!H", len(cid)) + cid
    )
    return bytes([0x10, len(body)]) + body


def raw_connect(target, client_id: str = "raw", timeout: float = 5.0) -> socket.socket:
    """A plain socket to ``target`` that sent CONNECT and got a successful CONNACK."""
    sock = socket.create_connection((target.host, target.port), timeout=timeout)
    sock.sendall(connect_packet(client_id))
    assert recv_exactly(sock, 4) == b"\x20\x02\x00\x00"
    return sock


def recv_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data


# -- brokers -----------------------------------------------------------------------------


def test_each_broker_kind_relays_a_message_between_paho_clients(broker: Broker, observer):
    watcher = observer(broker)
    watcher.subscribe("harness/+/state")
    observer(broker).publish("harness/a/state", b"on", qos=1)
    msg = watcher.wait_message("harness/#")
    assert (msg.topic, msg.payload, msg.qos, msg.retain) == ("harness/a/state", b"on", 1, False)


def test_a_restarted_broker_listens_again_on_the_same_port(broker: Broker, observer):
    port = broker.port
    broker.stop()
    assert not broker.running and not is_listening(broker.host, port)
    broker.start()
    assert broker.running and broker.port == port
    observer(broker).publish("harness/after", b"restart", qos=1)


@pytest.mark.parametrize("kind", ["amqtt", "mosquitto"])
def test_a_broker_whose_free_port_was_taken_meanwhile_starts_on_another(make_broker, kind):
    broker = make_broker(kind, start=False)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        broker.port = taken = squatter.getsockname()[1]
        broker.start()
        assert broker.running and broker.port != taken
        broker.stop()
        broker.port = taken  # a restart must keep its port, so it fails instead
        with pytest.raises(RuntimeError, match="did not start"):
            broker.start()


def test_the_observer_reconnects_and_resubscribes_after_a_broker_restart(broker, observer):
    watcher = observer(broker)
    watcher.subscribe("harness/#")
    broker.restart()
    watcher.wait_disconnected()
    watcher.wait_connected()
    watcher.subscribe("harness/other")  # ordered after the re-subscription on reconnect
    observer(broker).publish("harness/back", b"1", qos=1)
    assert watcher.wait_message("harness/back").payload == b"1"


@pytest.mark.parametrize("kind", ["amqtt", "mosquitto"])
@pytest.mark.parametrize(
    "credentials, accepted",
    [("right", True), ("wrong", False), ("anonymous", False)],
    ids=["right-password", "wrong-password", "anonymous"],
)
def test_the_auth_broker_admits_only_the_right_password(
    make_broker, observer, kind, credentials, accepted
):
    broker = make_broker(kind, auth=True)
    assert broker.user == "node" and broker.password
    user, password = {
        "right": (broker.user, broker.password),
        "wrong": (broker.user, broker.password + "x"),
        "anonymous": (None, None),
    }[credentials]
    if accepted:
        observer(broker, user=user, password=password).publish("harness/auth", b"ok", qos=1)
    else:
        with pytest.raises(ConnectionRefusedError):
            observer(broker, user=user, password=password)


def test_the_mosquitto_auth_fixture_refuses_anonymous_clients(mosquitto_auth, observer):
    observer(mosquitto_auth).publish("harness/auth", b"ok", qos=1)
    with pytest.raises(ConnectionRefusedError):
        observer(mosquitto_auth, user=None, password=None)


@pytest.mark.parametrize("kind", ["amqtt", "mosquitto"])
def test_the_tls_broker_serves_paho_a_certificate_the_ca_verifies(make_broker, observer, kind):
    broker = make_broker(kind, tls=True)
    assert broker.tls.server_hostname == "localhost"
    assert broker.tls.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
    watcher = observer(broker)
    watcher.subscribe("harness/tls")
    observer(broker).publish("harness/tls", b"secret", qos=1)
    assert watcher.wait_message("harness/tls").payload == b"secret"


# paho 2.2 leaves the SSLSocket of a failed handshake unclosed (ResourceWarning in its thread).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_paho_refuses_the_tls_broker_without_its_ca(mosquitto_tls, observer):
    system_cas_only = types.SimpleNamespace(ca_file=None)
    with pytest.raises(ConnectionRefusedError):
        observer(mosquitto_tls, tls=system_cas_only)


@pytest.mark.parametrize(
    "hostname, verified",
    [("localhost", True), ("wrong.example", False)],
    ids=["localhost", "wrong-name"],
)
def test_each_runtime_verifies_the_tls_broker_with_the_ca_as_der(
    mosquitto_tls, run_py, runtime, tmp_path, hostname, verified
):
    (tmp_path / "ca.der").write_bytes(mosquitto_tls.tls.ca_der)
    script = tmp_path / "tls_client.py"
    script.write_text(TLS_SCRIPT)
    proc = run_py(runtime, script, tmp_path / "ca.der", mosquitto_tls.port, hostname)
    if verified:
        assert proc.wait_line("CONNACK") == "CONNACK True"
        assert proc.wait() == 0
    else:
        proc.wait_line("TLS failed")
        assert proc.wait() == 2


# -- runtimes ----------------------------------------------------------------------------


def test_a_script_sees_its_args_and_the_repo_and_exits_with_its_code(runtime, run_py, tmp_path):
    script = tmp_path / "hello.py"
    script.write_text(
        "import sys\n"
        "import asyncio\n"  # MicroPython's frozen asyncio must still be on the path
        "print('args', sys.argv[1:])\n"
        "for p in sys.path:\n"
        "    print('path', p)\n"
        "sys.exit(3)\n"
    )
    proc = run_py(runtime, script, "a", 7)
    assert proc.wait_line("args") == "args ['a', '7']"
    assert proc.wait() == 3
    assert proc.returncode == 3
    paths = [line[5:] for line in proc.lines if line.startswith("path ")]
    for root in import_roots():
        assert root in paths
    if runtime == "micropython":
        assert paths.index(".frozen") < paths.index(import_roots()[0])


def test_wait_line_sees_stderr_and_can_wait_for_a_later_line(runtime, run_py, tmp_path):
    script = tmp_path / "twice.py"
    script.write_text("print('tick 1')\nprint('tick 2')\nraise ValueError('boom')\n")
    proc = run_py(runtime, script)
    first = proc.wait_line("tick")
    assert (first, first.index) == ("tick 1", 0)
    assert proc.wait_line(lambda line: line.startswith("tick"), after=first.index + 1) == "tick 2"
    assert "boom" in proc.wait_line("ValueError")
    assert proc.wait() == 1
    assert "tick 1\ntick 2" in proc.output()


def test_wait_line_fails_with_the_output_tail_when_the_process_exits_first(
    runtime, run_py, tmp_path
):
    script = tmp_path / "quits.py"
    script.write_text("print('last words')\n")
    proc = run_py(runtime, script)
    with pytest.raises(AssertionError, match=r"(?s)exited with 0 first.*last words"):
        proc.wait_line("never printed")


def test_wait_line_fails_when_its_timeout_runs_out(runtime, run_py, tmp_path):
    script = tmp_path / "waits.py"
    script.write_text("import time\nprint('waiting')\ntime.sleep(60)\n")
    proc = run_py(runtime, script)
    proc.wait_line("waiting")
    with pytest.raises(AssertionError, match=r"(?s)not within 0.2 s.*waiting"):
        proc.wait_line("never printed", timeout=0.2)


def test_sigint_reaches_the_script_as_keyboard_interrupt(runtime, run_py, tmp_path):
    script = tmp_path / "sig.py"
    script.write_text(
        "import sys\nimport time\n"
        "try:\n    print('ready')\n    time.sleep(60)\n"
        "except KeyboardInterrupt:\n    print('caught')\n    sys.exit(5)\n"
    )
    proc = run_py(runtime, script)
    proc.wait_line("ready")
    proc.send_signal(signal.SIGINT)
    proc.wait_line(lambda line: line == "caught")
    assert proc.wait() == 5


@pytest.mark.parametrize("line, skips", [(True, True), (False, False)], ids=["deadlock", "other"])
def test_a_node_its_watcher_ended_as_deadlocked_after_ctrl_c_skips_the_test(
    line, skips, run_py, tmp_path
):
    script = tmp_path / "killed.py"
    reason = runtimes.WHEEL_DEADLOCK if line else "watchdog: the event loop stood still"
    script.write_text(
        "import os\nprint('[critical] node: reset: ' + %r)\nos.kill(os.getpid(), 9)\n" % reason
    )
    proc = run_py("cpython", script)
    if skips:
        with pytest.raises(pytest.skip.Exception, match="deadlocked on the Ctrl-C"):
            proc.wait_after_ctrl_c()
    else:
        assert proc.wait_after_ctrl_c() == -signal.SIGKILL


@pytest.mark.parametrize(
    "heapsize, expected",
    [("20k", 20 * 1024), (65536, 65536), ("1M", 1 << 20)],
    ids=["20k", "65536", "1M"],
)
def test_micropython_gets_the_heap_size_it_was_asked_for(run_py, tmp_path, heapsize, expected):
    script = tmp_path / "heap.py"
    script.write_text("import gc\nprint('heap', gc.mem_free() + gc.mem_alloc())\n")
    proc = run_py("micropython", script, heapsize=heapsize)
    heap = int(proc.wait_line("heap").split()[1])
    assert 0.9 * expected <= heap <= expected
    assert proc.wait() == 0


@pytest.mark.parametrize("bad", ["", "20x", "-5", 0, 1.5, True], ids=repr)
def test_heapsize_rejects_what_micropython_would_not_understand(bad):
    with pytest.raises((ValueError, TypeError)):
        heapsize_args(bad)


@pytest.mark.parametrize(
    "ci, outcome",
    [("true", pytest.fail.Exception), ("", pytest.skip.Exception)],
    ids=["ci", "local"],
)
def test_a_missing_tool_fails_in_ci_and_skips_locally(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="mosquitto"):
        missing("program 'mosquitto'", "apt-get install mosquitto")


# -- observer ----------------------------------------------------------------------------


def test_the_observer_waits_for_new_messages_after_a_mark(mosquitto, observer):
    watcher = observer(mosquitto)
    watcher.subscribe("harness/+/n")
    publisher = observer(mosquitto)
    publisher.publish("harness/x/n", b"1", qos=1, retain=True)
    assert watcher.wait_message("harness/x/n").payload == b"1"
    mark = watcher.mark()
    publisher.publish("harness/x/n", b"2", qos=1)
    assert watcher.wait_message("harness/+/n", after=mark).payload == b"2"
    assert watcher.count("harness/#") == 2
    assert watcher.wait_message("harness/x/n", b"1").index == 0
    late = observer(mosquitto)
    late.subscribe("harness/#")
    assert late.wait_message("harness/x/n").retain


def test_wait_message_fails_listing_what_arrived(mosquitto, observer):
    watcher = observer(mosquitto)
    watcher.subscribe("harness/#")
    watcher.publish("harness/other", b"x", qos=1)
    watcher.wait_message("harness/other")
    with pytest.raises(AssertionError, match=r"(?s)0 of 1 message.*harness/other"):
        watcher.wait_message("harness/wanted", timeout=0.2)


# -- fault proxy -------------------------------------------------------------------------


def test_the_proxy_forwards_mqtt_both_ways(broker, fault_proxy, observer):
    proxy = fault_proxy(broker)
    assert (proxy.host, proxy.kind) == ("127.0.0.1", broker.kind)
    behind = observer(proxy)
    behind.subscribe("harness/in")
    observer(broker).publish("harness/in", b"down", qos=1)
    assert behind.wait_message("harness/in").payload == b"down"
    watcher = observer(broker)
    watcher.subscribe("harness/out")
    behind.publish("harness/out", b"up", qos=1)
    assert watcher.wait_message("harness/out").payload == b"up"
    assert proxy.connections == 1


def test_the_proxy_passes_tls_through(mosquitto_tls, fault_proxy, observer):
    proxy = fault_proxy(mosquitto_tls)
    observer(proxy).publish("harness/tls", b"x", qos=1)
    assert proxy.connections == 1


def test_a_frozen_proxy_leaves_paho_pings_unanswered(mosquitto, fault_proxy, observer):
    proxy = fault_proxy(mosquitto)
    behind = observer(proxy, keepalive=1)
    proxy.freeze()
    assert "keep alive" in behind.wait_disconnected().lower()
    proxy.thaw()
    behind.wait_connected()


def test_a_connection_made_while_frozen_gets_its_connack_after_thaw(mosquitto, fault_proxy):
    proxy = fault_proxy(mosquitto)
    proxy.freeze()
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
        proxy.wait_connections(1)
        sock.sendall(connect_packet())
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(4)
        proxy.thaw()
        sock.settimeout(5)
        assert recv_exactly(sock, 4) == b"\x20\x02\x00\x00"


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_drop_closes_every_connection(mosquitto, fault_proxy, reset):
    proxy = fault_proxy(mosquitto)
    with raw_connect(proxy, "one") as first, raw_connect(proxy, "two") as second:
        proxy.drop(reset=reset)
        for sock in (first, second):
            if reset:
                with pytest.raises(ConnectionResetError):
                    sock.recv(1)
            else:
                assert sock.recv(1) == b""
    assert proxy.active == 0
    with raw_connect(proxy):
        proxy.wait_active(1)


def test_the_observer_comes_back_after_a_drop(mosquitto, fault_proxy, observer):
    proxy = fault_proxy(mosquitto)
    behind = observer(proxy)
    proxy.drop()
    behind.wait_disconnected()
    behind.wait_connected()
    assert proxy.connections == 2


def test_a_refusing_proxy_closes_new_connections_until_told_otherwise(mosquitto, fault_proxy):
    proxy = fault_proxy(mosquitto)
    proxy.refuse(True)
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
        assert sock.recv(1) == b""
    assert proxy.connections == 1
    proxy.refuse(False)
    with raw_connect(proxy):
        assert proxy.connections == 2


def test_corrupt_sends_the_bytes_to_the_client_as_if_from_the_broker(broker, fault_proxy):
    proxy = fault_proxy(broker)
    with raw_connect(proxy) as sock:
        proxy.corrupt(b"\xde\xad\xbe\xef")
        assert recv_exactly(sock, 4) == b"\xde\xad\xbe\xef"


def test_a_proxy_to_a_stopped_broker_closes_the_clients_it_accepts(mosquitto, fault_proxy):
    proxy = fault_proxy(mosquitto)
    mosquitto.stop()
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
        assert sock.recv(1) == b""


def test_closing_the_harness_objects_twice_is_harmless(mosquitto):
    proxy = FaultProxy(mosquitto)
    proxy.close()
    proxy.close()
    obs = Observer(mosquitto)
    obs.close()
    obs.close()
    mosquitto.stop()
    mosquitto.stop()
