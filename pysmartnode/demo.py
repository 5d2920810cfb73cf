"""The demo node (CPython only): `python main.py` with no config.py.

Starts an embedded amqtt broker on 127.0.0.1 (port 1883, or a free one if that is taken), runs
a node against it and prints what to subscribe to. MQTT_HOST = "embedded" in a config.py selects
the embedded broker for any node. Needs the `demo` extra: pip install -e .[demo]
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
    """Demo defaults for the options the user did not set."""
    if demo:
        for name, value in _DEMO_DEFAULTS.items():
            if name not in options:
                setattr(config, name, value)


def _free_port(preferred):
    for port in (preferred, 0):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
            return s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    raise OSError("no free port on 127.0.0.1")


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
    try:
        await asyncio.wait_for(broker.shutdown(), 5)
    except Exception as e:  # the node is stopping anyway; say why the broker did not
        print("pysmartnode: broker shutdown:", e)


def announce(config, device_id, port):
    """Prints what to watch, for the person who just ran `python main.py`."""
    home = config.MQTT_HOME
    print("pysmartnode: demo node %r is starting. Watch it with:" % device_id)
    print("    mosquitto_sub -h 127.0.0.1 -p %d -t '%s/#' -v" % (port, home))
    print("  status now:  mosquitto_pub -h 127.0.0.1 -p %d -t '%s/%s/status/set' -m now"
          % (port, home, device_id))  # fmt: skip
    print("  Ctrl-C stops the node and the broker.")
