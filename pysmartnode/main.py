"""Start-up: config -> platform -> link -> MQTT -> built-ins -> components -> run for ever.

`run()` is what the root main.py calls on every runtime. See docs/node.md.
"""

import asyncio
import sys

_USAGE = """usage: main.py [--config PATH] [--demo]

  --config PATH  the node's config file (default: config.py beside main.py)
  --demo         run the demo node with its own broker (CPython; also with no config.py)

Single options by environment variable: PYSMARTNODE_<OPTION>=value (PYSMARTNODE_DEBUG=1)."""

_built = {}  # what _start made and _stop must end: watchdog, status, wifi_led, broker


def run(argv=None):
    """Loads the settings and runs the node until it is stopped; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if "--help" in argv or "-h" in argv:
        print(_USAGE)
        return 0
    from pysmartnode.config import ConfigError

    try:
        demo = _load_settings(argv)
    except ConfigError as e:
        print("pysmartnode: config error:", e)
        return 2
    try:
        asyncio.run(_main(demo))
    except KeyboardInterrupt:
        asyncio.run(_stop())  # MicroPython leaves the tasks as they were: stop them now
    except asyncio.CancelledError:
        pass  # SIGTERM on CPython: _main has stopped the node already
    except Exception as e:  # the node itself failed: record why, then start again
        _crashed(e)
    return 0


def _load_settings(argv):
    from pysmartnode import config, config_loader
    from pysmartnode.config import ConfigError

    path, options = config_loader.load(argv)
    del sys.modules["pysmartnode.config_loader"]  # its tables are not needed again
    demo = "--demo" in argv or (path is None and not config.MQTT_HOST)
    if demo or config.MQTT_HOST == "embedded":
        if sys.implementation.name != "micropython":
            from pysmartnode.demo import settings

            settings(config, options, demo)
            config.MQTT_HOST = "embedded"
        else:
            raise ConfigError("the embedded broker needs CPython: set MQTT_HOST to your broker")
    if not config.MQTT_HOST:
        raise ConfigError("MQTT_HOST is not set: name your broker in config.py")
    if path and "/" in path:
        # components.py and the reset record live beside the config file
        folder = path[: path.rfind("/")]
        sys.path.insert(0, folder)
        _built["folder"] = folder + "/"
    return demo


def _crashed(e):
    from pysmartnode.logging.logger import emit, record_reset
    from pysmartnode.platform import restart

    reason = "crash: %s: %s" % (type(e).__name__, e)
    try:
        sys.print_exception(e)
    except AttributeError:  # CPython
        import traceback

        traceback.print_exception(e)
    emit(50, "node", reason, True)
    record_reset(reason)
    restart(1)


async def _main(demo):
    try:
        await _start(demo)
        while True:
            await asyncio.sleep(3600)
    finally:
        await _stop()


def _exception_handler(loop, context):
    # A task that failed with nobody awaiting it: on a board its traceback would be lost
    from pysmartnode import logging

    e = context.get("exception")
    logging.getLogger("node").error(
        "task failed: %s", "%s: %s" % (type(e).__name__, e) if e else context.get("message")
    )


async def _start(demo):
    from pysmartnode import config, logging, node, platform
    from pysmartnode.logging import logger
    from pysmartnode.networking.mqtt import MQTTHandle
    from pysmartnode.version import VERSION

    asyncio.get_event_loop().set_exception_handler(_exception_handler)
    _catch_sigterm()
    logger.configure(
        config.DEBUG, config.LOG_QUEUE_LEN, _built.get("folder", "") + "reset_reason.txt"
    )
    log = logging.getLogger("node")
    if config.WATCHDOG_TIMEOUT:
        from pysmartnode.utils.watchdog import Watchdog

        _built["watchdog"] = Watchdog(config.WATCHDOG_TIMEOUT)
    device_id = config.DEVICE_NAME or platform.device_id()
    log.info("pysmartnode %s on %s, id %s", VERSION, platform.PLATFORM, device_id)
    reason = logger.last_reset()
    if reason:
        log.warning("last reset: %s", reason)
    elif platform.reset_cause():
        log.info("reset cause: %s", platform.reset_cause())

    node.link = platform.Link()
    await node.link.connect(config.WIFI_SSID, config.WIFI_PASSPHRASE, device_id)
    host, port = config.MQTT_HOST, config.MQTT_PORT
    if host == "embedded":
        from pysmartnode.demo import start_broker

        _built["broker"], port = await start_broker(port)
        host = "127.0.0.1"
    node.mqtt = mqtt = MQTTHandle(
        device_id,
        config.MQTT_HOME,
        config.MQTT_AVAILABILITY_SUBTOPIC,
        config.MQTT_DISCOVERY_PREFIX if config.MQTT_DISCOVERY_ENABLED else None,
        **_client_options(config, host, port, node.link),
    )
    log_prefix = "%s/log/" % config.MQTT_HOME
    log_suffix = "/" + device_id

    async def sink(level, payload):
        await mqtt.publish(log_prefix + level + log_suffix, payload, qos=1)

    logger.start(sink)
    from pysmartnode.components.machine.status import Status

    node.status = Status(mqtt, config.INTERVAL_SENSOR_PUBLISH, node.link)
    if config.WIFI_LED is not None:
        from pysmartnode.networking.wifi_led import WifiLed

        try:
            _built["wifi_led"] = WifiLed(
                platform.led(config.WIFI_LED, config.WIFI_LED_ACTIVE_HIGH), mqtt
            )
        except OSError as e:
            log.warning("WIFI_LED ignored: %s", e)
    if config.RTC_SYNC_ACTIVE:
        from pysmartnode.networking.ntp import keep_time

        asyncio.create_task(
            keep_time(config.RTC_SERVER, config.RTC_TIMEZONE_OFFSET, config.RTC_DAYLIGHT_SAVINGS)
        )
    if demo:
        from pysmartnode.demo import announce

        announce(config, device_id, port)
    await _load_components(log, demo)
    await mqtt.connect()
    platform.collect()


def _client_options(config, host, port, link):
    options = {
        "server": host,
        "port": port,
        "user": config.MQTT_USER,
        "password": config.MQTT_PASSWORD,
        "keepalive": config.MQTT_KEEPALIVE,
        "link": link if link.watched else None,
    }
    if config.MQTT_TLS:
        from pysmartnode.networking.tls import ssl_params

        options["ssl"] = True
        options["ssl_params"] = ssl_params(config, host)
    return options


async def _load_components(log, demo):
    # Components come from components.py (beside config.py, or on the board's root): its code
    # runs, and a COMPONENTS dict in it goes to the registry (pysmartnode.utils.registry).
    if demo:
        from pysmartnode.demo import COMPONENTS
    else:
        try:
            import components
        except ImportError as e:
            if not str(e).endswith("'components'"):
                log.error("components.py failed: %s", e)
            return
        except Exception as e:  # a broken components.py must not stop the node
            log.error("components.py failed: %s: %s", type(e).__name__, e)
            return
        COMPONENTS = getattr(components, "COMPONENTS", None)
    if not COMPONENTS:
        return
    try:
        from pysmartnode.utils import registry
    except ImportError:
        log.error("COMPONENTS found, but this build has no pysmartnode.utils.registry")
        return
    await registry.build(COMPONENTS)


def _catch_sigterm():
    # CPython: SIGTERM (systemd stop, kill) ends the node as cleanly as Ctrl-C does
    try:
        import signal
    except ImportError:
        return  # MicroPython: the broker publishes the will when the socket closes
    task = asyncio.current_task()
    try:
        asyncio.get_event_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    except (NotImplementedError, RuntimeError):
        pass


async def _stop():
    from pysmartnode import node
    from pysmartnode.logging import logger

    for name in ("watchdog", "wifi_led"):
        if name in _built:
            _built.pop(name).stop()
    if node.status is not None:
        node.status.stop()
        node.status = None
    if node.mqtt is not None:
        mqtt, node.mqtt = node.mqtt, None
        logger.getLogger("node").info("stopping")
        await logger.flush(1)
        logger.stop()
        await mqtt.stop()
    if "broker" in _built:
        from pysmartnode.demo import stop_broker

        await stop_broker(_built.pop("broker"))
