"""The demo node (CPython only): `./run.sh` (`python3 main.py`) with no config.py.

Starts an embedded amqtt broker on 127.0.0.1 (port 1883, or a free one if that is taken), runs
a node against it and prints what to subscribe to. MQTT_HOST = "embedded" in a config.py selects
the embedded broker for any node. Needs amqtt, the `demo` extra (run.sh installs it).
"""

import asyncio
import logging as std_logging
import socket

# The components every Linux box can run (pysmartnode/components/unix)
COMPONENTS = {
    "cpu_load": {"package": ".unix.load", "component": "CPULoad"},
    "memory": {"package": ".unix.memory", "component": "Memory"},
    "disk": {"package": ".unix.disk", "component": "Disk", "constructor_args": {"path": "/"}},
    "uptime": {"package": ".unix.uptime", "component": "Uptime"},
    "network": {"package": ".unix.link", "component": "NetworkLink"},
    "lamp": {"package": ".unix.file_switch", "component": "FileSwitch"},  # /tmp/pysmartnode-lamp
    "refresh": {"package": ".unix.refresh_button", "component": "RefreshButton"},
}


def _add_cpu_temperature():
    from pysmartnode.components.unix.cpu_temperature import find_zone

    if find_zone():  # VMs and containers have none: no entity that never gets a value
        COMPONENTS["cpu_temperature"] = {
            "package": ".unix.cpu_temperature",
            "component": "CPUTemperature",
        }


_add_cpu_temperature()

_DEMO_DEFAULTS = {"DEVICE_NAME": "demo", "INTERVAL_SENSOR_PUBLISH": 30}


def settings(config, options, demo):
    """Demo defaults for the options the user did not set.

    Raises:
        ConfigError: amqtt, the embedded broker, is not installed.
    """
    embedded = not config.MQTT_HOST or config.MQTT_HOST == "embedded"
    try:
        if embedded:  # `--demo` against the user's own broker needs no amqtt
            import amqtt.broker  # noqa: F401
    except ImportError:
        raise config.ConfigError(
            "the embedded broker needs amqtt, which is not installed: run ./run.sh (it installs "
            "it), or pip install amqtt; or set MQTT_HOST to your broker"
        ) from None
    if demo:
        for name, value in _DEMO_DEFAULTS.items():
            if name not in options:
                setattr(config, name, value)


def _free_port(preferred):
    for port in (preferred, 0):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # as brokers (and amqtt) bind: the last run's connections in TIME_WAIT keep no one out
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    raise OSError("no free port on 127.0.0.1")


def _add_http():
    # The node's own web page and HTTP API on 127.0.0.1 (components/net/http.py), where the
    # demo extra brought microdot; FmPyIOT-style system topics beside it
    try:
        import microdot  # noqa: F401
    except ImportError:
        return
    COMPONENTS["http"] = {
        "package": ".net.http",
        "component": "HTTP",
        "constructor_args": {"host": "127.0.0.1", "port": _free_port(8080)},
    }
    COMPONENTS["system"] = {"package": ".machine.system", "component": "System"}


_add_http()


async def start_broker(port=1883):
    """Starts amqtt on 127.0.0.1; returns (broker, port)."""
    try:
        from amqtt.broker import Broker
    except ImportError:
        raise OSError(
            "the embedded broker needs amqtt: pip install -e .[demo] (or amqtt)"
        ) from None
    port = _free_port(port)
    std_logging.getLogger("amqtt").setLevel(std_logging.WARNING)  # its info is chatter here
    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": "127.0.0.1:%d" % port}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
    )
    await broker.start()
    print("pysmartnode: embedded MQTT broker on 127.0.0.1:%d" % port)
    return broker, port


async def stop_broker(broker):
    await _passed_on(broker)
    try:
        await asyncio.wait_for(broker.shutdown(), 5)
    except Exception as e:  # the node is stopping anyway; say why the broker did not
        print("pysmartnode: broker shutdown:", e or type(e).__name__)


async def _passed_on(broker, timeout=1.0):
    # amqtt acknowledges a message before it passes it on (a queue, then a task per subscriber
    # that waits for its PUBACK). Wait until it has: the node's `offline` must reach the
    # subscribers before the broker goes, and a PUBACK that arrives while amqtt shuts down can
    # hang it (a cancelled read on CPython 3.11 may swallow the cancel: 5 s lost at every
    # other Ctrl-C). amqtt has no call for this; another version without these: no wait
    queue = getattr(broker, "_broadcast_queue", None)
    tasks = getattr(broker, "_tasks_queue", None)
    sessions = getattr(broker, "_sessions", None)
    if queue is None or tasks is None or sessions is None:
        return
    quiet = 0
    for _ in range(int(timeout / 0.02)):
        busy = not queue.empty() or any(not task.done() for task in tasks)
        for session, _handler in sessions.values():
            incoming = getattr(session, "delivered_message_queue", None)
            busy = busy or (incoming is not None and not incoming.empty())
        quiet = 0 if busy else quiet + 1
        if quiet == 3:  # three looks in a row: not just between two of its steps
            return
        await asyncio.sleep(0.02)


def announce(config, device_id, port, host="127.0.0.1"):
    """Prints what to watch, for the person who just ran `./run.sh`."""
    home = config.MQTT_HOME
    print("pysmartnode: demo node %r is starting. Watch it with:" % device_id)
    watch = _watch_command()
    if watch:
        where = "" if host == "127.0.0.1" else "-H %s " % host
        print("    %s %s-p %d --home %s %s" % (watch, where, port, home, device_id))
        print("  status now: type `now` and Enter there (or add --status).")
    print("  With mosquitto-clients (apt-get install mosquitto-clients):")
    print("    mosquitto_sub -h %s -p %d -t '%s/#' -v" % (host, port, home))
    print("    mosquitto_pub -h %s -p %d -t '%s/%s/status/set' -m now"
          % (host, port, home, device_id))  # fmt: skip
    http = COMPONENTS.get("http")
    if http:
        print("  web page:    http://127.0.0.1:%d/" % http["constructor_args"]["port"])
    print("  Ctrl-C stops the node and the broker.")


def _watch_command():
    # tools/watch.py of this checkout, run by the Python running this node, both as the user
    # can type them from here; None when pysmartnode was installed without its tools
    import os
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = os.path.join(root, "tools", "watch.py")
    if not os.path.isfile(script):
        return None
    here = os.getcwd()
    python = sys.executable or "python3"
    if os.path.abspath(python).startswith(here + os.sep):
        python = os.path.relpath(python)
    elif python.startswith(sys.base_prefix + os.sep):
        python = "python3"  # the system's own interpreter: its usual name
    if script.startswith(here + os.sep):
        script = os.path.relpath(script)
    return "%s %s" % (python, script)
