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
  with ``freeze()``/``thaw()``, ``drop()``, ``refuse(on)``, ``corrupt(data)``.

A missing ``mosquitto``, ``openssl`` or ``micropython`` skips the test, or fails it when the
environment has ``CI=true``.

Waits (``Observer.wait_message``, ``Proc.wait_line``) first look at what was already recorded,
from index ``after`` (default 0). To wait for something *new*, take ``n = x.mark()`` before
causing it and pass ``after=n``. A timed-out wait raises AssertionError with what was seen.

Example::

    def test_node_reports_online(broker, runtime, run_py, observer, tmp_path):
        obs = observer(broker)
        obs.subscribe("home/+/status")
        node = run_py(runtime, REPO / "main.py", "--port", str(broker.port))
        node.wait_line("connected")
        assert obs.wait_message("home/+/status", b"online").retain
"""

from .brokers import AUTH_USER, KINDS, Broker
from .net import LOOPBACK, free_port, is_listening, poll_until, wait_closed, wait_listening
from .observer import Msg, Observer
from .proxy import FaultProxy
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
    "FaultProxy",
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
