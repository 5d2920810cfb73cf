"""Start-up steps that run once: settings, then building the node. Dropped after start.

pysmartnode.main imports this module for start-up only and removes it from sys.modules when the
node runs, so its code costs no RAM afterwards.
"""

import asyncio
import sys

from pysmartnode import node
from pysmartnode.utils import forget


def drop(name):
    """Forgets the module pysmartnode.<name>, so its code can be collected."""
    forget("pysmartnode." + name)


def load_settings(argv):
    import gc

    if sys.implementation.name != "micropython":  # (no try: its ImportError would stay here)
        # CPython: SIGTERM before the event loop takes it over (_catch_sigterm) ends the node
        # as Ctrl-C does, not with the default's exit status -15
        import signal

        signal.signal(signal.SIGTERM, signal.default_int_handler)

    # Collected each 64th of the heap allocated, not only when full: what the node keeps packs
    # at the heap's bottom, not amid the holes start-up leaves (where a 368-752 B table then
    # finds no block). On heaps up to 256 KiB only: it doubles the collections' CPU, and a larger
    # heap has room to spare. CPython's gc has no threshold() (docs/node.md, bench/RESULTS.md)
    if hasattr(gc, "threshold"):
        heap = gc.mem_free() + gc.mem_alloc()
        if heap <= 262144:
            gc.threshold(heap // 64)
    from pysmartnode import config, config_loader
    from pysmartnode.config import ConfigError

    path, options = config_loader.load(argv)
    drop("config_loader")  # its tables are not needed again
    drop("config_values")
    drop("config_base")  # the defaults: pysmartnode.config holds them (and the user's values)
    asked = "--demo" in argv
    demo = asked or (path is None and not config.MQTT_HOST)
    if sys.implementation.name == "micropython":
        if asked:
            raise ConfigError("the demo needs CPython (its broker is amqtt): run ./run.sh")
        if demo:
            raise ConfigError(
                "no config.py found and MQTT_HOST is not set: copy config_example.py to "
                "config.py and set MQTT_HOST (or pass --config PATH)"
            )
        if config.MQTT_HOST == "embedded":
            raise ConfigError("the embedded broker needs CPython: set MQTT_HOST to your broker")
    elif demo or config.MQTT_HOST == "embedded":
        from pysmartnode.demo import settings

        settings(config, options, demo)
        if not config.MQTT_HOST:  # `--demo` with MQTT_HOST set: the demo on that broker
            config.MQTT_HOST = "embedded"
    if not config.MQTT_HOST:
        raise ConfigError("MQTT_HOST is not set: name your broker in %s" % (path or "config.py"))
    if path and "/" in path:
        # components.py (on the import path already: config_loader) and the reset record live
        # beside the config file
        node.parts["folder"] = path[: path.rfind("/") + 1]
    return demo


async def start(demo):
    """Builds the node; returns its first connect (a coroutine or task) for the caller to await."""
    # Start-up code is not needed again: out of sys.modules before the build, a slot less there
    # while the components load (this and drop run on; nothing imports it again)
    drop("startup")
    from pysmartnode import config, logging, node, platform
    from pysmartnode.logging import logger
    from pysmartnode.networking.mqtt import MQTTHandle
    from pysmartnode.version import VERSION

    # What the running node keeps must not be of this module (a function holds its module's
    # globals): the loop's handler and the log sink are the logger's and the handle's
    asyncio.get_event_loop().set_exception_handler(logger.task_failed)
    _catch_sigterm()
    logger.configure(
        config.DEBUG, config.LOG_QUEUE_LEN, node.parts.get("folder", "") + "reset_reason.txt"
    )
    log = logging.getLogger("node")
    # WATCHDOG_TIMEOUT = 0 turns the timeout off; the unix port may still end a deadlocked node
    # there. A board loads nothing then
    if config.WATCHDOG_TIMEOUT or platform.PLATFORM == "unix":
        _start_watchdog(config.WATCHDOG_TIMEOUT, logger._reason_file)
    device_id = config.DEVICE_NAME or platform.device_id()
    log.info("pysmartnode %s on %s, id %s", VERSION, platform.PLATFORM, device_id)
    reason = logger.last_reset()
    if reason:
        log.warning("last reset: %s", reason)
    elif platform.reset_cause():
        log.info("reset cause: %s", platform.reset_cause())
    node.reset_reason = reason or platform.reset_cause()  # the status reports it

    node.link = platform.Link()
    await node.link.connect(config.WIFI_SSID, config.WIFI_PASSPHRASE, device_id)
    host, port = config.MQTT_HOST, config.MQTT_PORT
    if host == "embedded":
        from pysmartnode.demo import start_broker

        node.parts["broker"], port = await start_broker(port)
        host = "127.0.0.1"
    node.mqtt = mqtt = MQTTHandle(
        device_id,
        config.MQTT_HOME,
        config.MQTT_AVAILABILITY_SUBTOPIC,
        config.MQTT_DISCOVERY_PREFIX if config.MQTT_DISCOVERY_ENABLED else None,
        **_client_options(config, host, port, node.link),
    )
    logger.start(mqtt.publish, "%s/log/" % config.MQTT_HOME, "/" + device_id)
    # The logger's set-up part (stateless: loaded again if a component or a stop needs it)
    drop("logging.control")
    from pysmartnode.components.machine.status import Status

    node.status = Status(mqtt, config.INTERVAL_SENSOR_PUBLISH, node.link)
    drop("components.machine")  # the package, not the status's module; as _forget_packages
    # Its one string is frozen code's, held where it is used. Dropped before the components are
    # built: a module less in sys.modules while they load (its table grows a step at 48)
    drop("version")
    if config.MQTT_DISCOVERY_ENABLED:
        from pysmartnode.utils.component import discovery

        node.discovery = discovery.start(mqtt, config, device_id, VERSION, platform.PLATFORM)
        drop("utils.component.discovery")  # lives on in node.discovery; only this imports it
    if config.WIFI_LED is not None:
        from pysmartnode.networking.wifi_led import WifiLed

        try:
            node.parts["wifi_led"] = WifiLed(
                platform.led(config.WIFI_LED, config.WIFI_LED_ACTIVE_HIGH), mqtt
            )
        except OSError as e:
            log.warning("WIFI_LED ignored: %s", e)
    if config.RTC_SYNC_ACTIVE and not platform.KEEPS_TIME:
        from pysmartnode.networking.ntp import keep_time

        asyncio.create_task(
            keep_time(config.RTC_SERVER, config.RTC_TIMEZONE_OFFSET, config.RTC_DAYLIGHT_SAVINGS)
        )
    if demo:
        from pysmartnode.demo import announce

        announce(config, device_id, port, host)
    # The components (startup_components.py), loaded for this and dropped at once: out of
    # sys.modules while the components load, as this module is
    from pysmartnode import startup_components as components

    drop("startup_components")
    if config.MQTT_RECEIVE_CONFIG and not demo:
        connecting = asyncio.create_task(mqtt.connect())  # the config comes over MQTT
        await components.load(log, demo, mqtt)
    else:
        await components.load(log, demo, mqtt)
        connecting = mqtt.connect()
    components = None  # its module's code goes before the first connect
    drop("logging.control")  # if the build loaded it again
    # Packages the running node reaches only by their modules' full names (the status's, the
    # handle's, discovery's): each a module, a dict, a table and a __path__ string (192-320 B).
    # An import under one later loads it again, small (use_once drops it again at once:
    # discovery's publications); no class of theirs is made twice, their modules stay in
    # sys.modules (as registry._forget_packages)
    drop("components")
    drop("networking")
    drop("utils.component")
    # Awaited by the caller once this frame and this module are gone (~1 KB, main._main): the
    # first connect is the start's peak
    return connecting


def _start_watchdog(timeout, reason_file):
    # Here, not in utils/watchdog.py: a function there would live on in its module's globals,
    # which the watchdog's methods hold
    from pysmartnode import platform

    period = min(1, timeout / 4) if timeout else 1
    # Made now: when it fires the loop is stuck and allocating is best avoided
    reason = (
        "watchdog: the event loop stood still for more than %s s" % timeout if timeout else None
    )
    # Linux without ffi (the PyPI wheel): the check is a process of its own, as a thread there
    # can deadlock a Ctrl-C (platform/unix_watch.py); it also ends a node deadlocked on a lock
    # of its own, which only it can: with timeout 0 it runs for that
    watch = getattr(platform, "watch", None)
    check = watch and watch(timeout, period, reason, reason_file)
    if check or timeout:
        from pysmartnode.utils.watchdog import Watchdog

        node.parts["watchdog"] = Watchdog(timeout, period, reason, check)
        drop("utils.watchdog")  # its class lives on in the watchdog; nothing imports it again


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
