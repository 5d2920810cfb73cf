"""Test harness: real brokers, both runtimes, an MQTT observer and a fault-injecting proxy.

``tests/conftest.py`` puts ``tests/`` on ``sys.path``, so any test can ``from harness import``.
Everything is loopback-only (127.0.0.1, free ports), every wait has a timeout, and every
process, client and proxy a fixture made is stopped at teardown, also when the test failed.
When a test fails, the report gets the broker logs and the node output.

Fixtures (tests/conftest.py; function scope unless noted):

- ``broker``: a fresh broker, parametrized over ``"amqtt"`` and ``"mosquitto"`` (ids the same).
- ``mosquitto``, ``amqtt``: one kind each. ``mosquitto_auth``: user ``"node"`` and a random
  ``.password``, anonymous refused. ``mosquitto_tls``: TLS on its port, ``.tls`` holds the CA.
- ``make_broker(kind, auth=False, tls=False, extra_config=None, start=True) -> Broker``: more
  brokers or other options; ``extra_config`` is mosquitto config text, or a dict merged into
  amqtt's YAML config.
- ``tls_certs`` (session): the :class:`TLSFiles` (CA and server cert for localhost/127.0.0.1).
- ``runtime``: ``"cpython"`` or ``"micropython"`` (parametrized, ids the same).
- ``run_py(runtime, script, *args, heapsize=None, env=None, cwd=None) -> Proc``: starts a
  script (``python -u`` / ``micropython -X heapsize=N``) able to import the repo and
  ``external_modules``; every process is killed at teardown.
- ``observer(target, **options) -> Observer``: a connected paho-mqtt client for a broker or a
  proxy (auth and TLS taken from it); disconnected at teardown.
- ``fault_proxy(target) -> FaultProxy``: a TCP proxy to put between a node and the broker,
  with ``freeze()``/``thaw()``, ``blackhole()``/``release()``, ``throttle(bytes_per_second)``, ``drop()``,
  ``refuse(on)``, ``corrupt(data)``.

Objects:

- ``Broker``: ``.kind .host .port .user .password .tls .log_path .running .pid``,
  ``stop(kill=False)`` (waits until the port is closed), ``start()`` (same port),
  ``restart(down_seconds=0.0)``, ``log_text()``. ``.tls``: ``.ca_file .ca_pem .ca_der
  .cert_file .key_file .server_hostname`` (``"localhost"``; the cert also has IP 127.0.0.1).
- ``Observer(target, user=, password=, tls=, client_id=None, keepalive=60, will=None)``:
  ``subscribe(f, qos=1)``, ``unsubscribe(f)``, ``publish(t, payload, qos=0, retain=False)``,
  ``wait_message(f, predicate=None, timeout=10, after=0) -> Msg``, ``wait_messages(f, count,
  ...)``, ``matching(f, ...)``, ``count(f, ...)``, ``messages``, ``mark()``, ``clear()``,
  ``connected``, ``wait_connected()``, ``wait_disconnected() -> reason``, ``disconnects``.
  A predicate is a callable on ``Msg`` or the exact payload (bytes or str).
  ``Msg``: ``.topic .payload .qos .retain .index .time .text .json()``.
- ``Proc``: ``.lines .pid .returncode .argv``, ``wait_line(str_or_predicate, timeout=10,
  after=0)``, ``wait(timeout=10)``, ``output()``, ``mark()``, ``tail()``, ``send_signal(sig)``,
  ``terminate()``, ``kill()``, ``stop()`` (kill and reap).
- ``FaultProxy``: ``.host .port .connections .active .frozen`` (plus the target's ``.user
  .password .tls .kind``), ``freeze() thaw() blackhole() throttle(bytes_per_second) drop(reset=False) refuse(on=True)
  corrupt(data)
  wait_connections(n) wait_active(n) close()``. ``random_fault(rng, proxy, broker,
  freeze_seconds=(2, 2))`` drops, freezes or restarts, as ``rng`` picks (the chaos runs).

A missing ``mosquitto``, ``openssl`` or ``micropython`` skips the test, or fails it when the
environment has ``CI=true``.

Waits (``Observer.wait_message``, ``Proc.wait_line``) first look at what was already recorded,
from index ``after`` (default 0). To wait for something *new*, take ``n = x.mark()`` before
causing it and pass ``after=n``; or pass ``after=found.index + 1`` (``Msg.index``, and
``wait_line`` returns a ``str`` with ``.index``). A timed-out wait raises AssertionError with
what was seen. ``Proc.lines`` is stdout and stderr merged, in the order the child wrote them.
``Observer.publish``/``subscribe`` first wait (bounded) for paho to be connected, so they work
right after ``broker.restart()``; the observer re-subscribes by itself after a reconnect.

Example::

    def test_a_script_publishes_hello(broker, runtime, run_py, observer, tmp_path):
        obs = observer(broker)
        obs.subscribe("hello/#")
        (tmp_path / "s.py").write_text(SCRIPT)  # connects to sys.argv[1], publishes hello/x
        run_py(runtime, tmp_path / "s.py", broker.port).wait_line("sent")
        assert obs.wait_message("hello/+", b"hi", timeout=10).topic == "hello/x"
"""

from .brokers import AUTH_USER, KINDS, Broker
from .commands import Command
from .net import LOOPBACK, free_port, is_listening, poll_until, wait_closed, wait_listening
from .observer import Msg, Observer
from .proxy import FaultProxy, random_fault
from .runtimes import (
    RUNTIMES,
    Line,
    Proc,
    command,
    environment,
    heapsize_args,
    import_roots,
    micropython_path,
    run_py,
)
from .tls import SERVER_HOSTNAME, TLSFiles, make_tls_files
from .tools import REPO, find_tool, in_ci, missing, require_tool

__all__ = [
    "AUTH_USER",
    "KINDS",
    "LOOPBACK",
    "Line",
    "REPO",
    "RUNTIMES",
    "SERVER_HOSTNAME",
    "Broker",
    "Command",
    "FaultProxy",
    "random_fault",
    "Msg",
    "Observer",
    "Proc",
    "TLSFiles",
    "command",
    "environment",
    "find_tool",
    "free_port",
    "heapsize_args",
    "import_roots",
    "in_ci",
    "is_listening",
    "make_tls_files",
    "micropython_path",
    "missing",
    "poll_until",
    "require_tool",
    "run_py",
    "wait_closed",
    "wait_listening",
]
