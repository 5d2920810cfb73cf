# Device-code checks that need no broker, run on both runtimes; one line per check
import asyncio

from mqtt_as.tls import pem_to_der

from pysmartnode.logging import logger
from pysmartnode.networking import ntp


def check(name, ok):
    print("check %s %s" % (name, "ok" if ok else "FAILED"))


# logging: bounded queue, oldest dropped and counted, never raises
logger.configure(debug=False, queue_len=3)
log = logger.getLogger("unit")
for i in range(5):
    log.info("message %d", i)
check("log_queue_bounded", len(logger._queue) == 3)
check("log_oldest_dropped", [p for _, p in logger._queue][0] == "[unit] message 2")
check("log_drops_counted", logger.dropped() == 2)
log.debug("not formatted %d", 1)
check("log_debug_off", len(logger._queue) == 3 and logger.dropped() == 2)
log.info("bad format %d %d", 1)  # one argument short: logged as text, no exception
check("log_bad_format_survives", "bad format" in logger._queue[-1][1])
log.warning(object())
check("log_level_name", logger._queue[-1][0] == "warn")
log.error("printed only", local_only=True)
check("log_local_only_not_queued", logger._queue[-1][1] != "[unit] printed only")
logger.set_level(logger.DEBUG)  # set_level and level: the logger's control part, loaded for it
log.debug("now on")
check("log_set_level", logger.level() == logger.DEBUG and logger._queue[-1][1] == "[unit] now on")
logger.set_level(logger.INFO)
tapped = []
tap = logger.tap(lambda level, name, text: tapped.append(text))
log.info("tapped")
log.info("local", local_only=True)
logger.untap(tap)
logger.untap(tap)  # a second untap changes nothing
log.info("untapped")
check("log_tap", tapped == ["tapped"] and logger._taps == ())

# A logger's own level: setLevel and isEnabledFor are control.py's, loaded for the call and
# dropped (set_level above loaded it: dropped first, as start-up does; DEBUG is 10)
__import__("pysmartnode.utils").utils.forget("pysmartnode.logging.control")
own = logger.getLogger("own")
before = own.isEnabledFor(10)
own.setLevel(10)
own.debug("own debug")
check(
    "log_logger_level",
    not before
    and own.isEnabledFor(10)
    and logger._queue[-1][1] == "[own] own debug"
    and "pysmartnode.logging.control" not in __import__("sys").modules
    and not hasattr(own, "no_such_method"),
)

sent = []


async def sink(level, payload):
    if payload.endswith("fail"):
        raise OSError("sink failed")
    sent.append((level, payload))


async def drain():
    logger._queue.clear()
    logger.start(sink)
    log.error("one")
    log.error("fail")
    log.critical("two")
    await asyncio.sleep(0.1)
    logger.stop()


asyncio.run(drain())
check("log_sink_order", sent == [("error", "[unit] one"), ("critical", "[unit] two")])


async def drain_to_topics():
    # the node's form: an MQTT handle's publish, with the level's topic made of prefix + suffix
    published = []

    async def publish(topic, payload, retain, qos):
        published.append((topic, payload, retain, qos))

    logger._queue.clear()
    logger.start(publish, "home/log/", "/unit")
    log.error("three")
    await asyncio.sleep(0.1)
    logger.stop()
    return published


published = asyncio.run(drain_to_topics())
check("log_sink_topic", published == [("home/log/error/unit", "[unit] three", False, 1)])


async def status_wakes():
    # The status's one waker: a live request, a connect, discovery's state pass ask a report;
    # a retained (stale) request and Home Assistant's birth do not
    from pysmartnode.components.machine.status import Status
    from pysmartnode.networking.mqtt import MQTTHandle

    status = Status(MQTTHandle("unit", server="127.0.0.1", port=1), 600, None)
    await asyncio.sleep(0)  # its loop starts waiting out the interval
    asked = []
    for args in ((), ("./status/set", "now", False), ("connect",), ("reconnect",),
                 ("./status/set", "now", True), ("homeassistant",)):  # fmt: skip
        status._state = 0  # busy (status._BUSY): asked, it is due (_DUE, 2) next
        status(*args)  # the status is its own callback (request topic, connect hook)
        asked.append(status._state == 2)
    status.stop()
    await asyncio.sleep(0)
    return asked


check("status_wakes", asyncio.run(status_wakes()) == [True, True, True, True, False, False])


def handle_rare_methods():
    # The MQTT handle's rarely used methods (mqtt_rare.py) answer as its methods, and their
    # module is gone after each call; other names still raise AttributeError
    import sys

    from pysmartnode.networking.mqtt import MQTTHandle

    handle = MQTTHandle("unit", server="127.0.0.1", port=1)
    got = []

    def hook(up):
        got.append(up)

    def on_pump(topic, msg, retained):
        got.append((topic, msg, retained))

    handle.subscribe("./pump/set", on_pump)
    handle.on_link(hook)
    handle(True)  # the client: the link is up
    handle.off_link(hook)
    handle(False)
    got.append(handle.deliver("./pump/set", "ON"))
    handle.unsubscribe("./pump/set", on_pump)
    got.append(handle.deliver("./pump/set", "OFF"))
    got.append(handle.short("home/unit/pump"))
    got.append(handle.device_topic("pump", True))
    got.append("reconnects" in handle.stats())
    got.append((handle.callbacks_dropped, handle._running, handle._stopping, handle._worker))
    got.append(hasattr(handle, "no_such_method") or hasattr(handle, "_link_hooks_x"))
    got.append("pysmartnode.networking.mqtt_rare" in sys.modules)
    return got


check(
    "handle_rare_methods",
    handle_rare_methods()
    == [
        True,
        ("./pump/set", "ON", False),
        1,
        0,
        "./pump",
        "./pump/set",
        True,
        (0, 0, False, None),
        False,
        False,
    ],
)


def handle_start_up_loads():
    # What start-up calls on the handle (on_connect, on_link, connect; off_link with them)
    # loads no module: near the idle node's edge each load of mqtt_rare.py failed first. The
    # modules loaded for one call are those `forget` is given; stats() still loads one
    from pysmartnode import utils
    from pysmartnode.networking.mqtt import MQTTHandle

    handle = MQTTHandle("unit", server="127.0.0.1", port=1)
    loaded = []
    forget = utils.forget
    utils.forget = lambda name: loaded.append(name) or forget(name)
    try:
        hooks = []

        def hook(arg):
            hooks.append(arg)

        handle.off_link(hook)  # no link hook yet: nothing to remove
        handle.on_connect(hook)
        handle.on_link(hook)
        handle(True)  # the client: the link is up
        handle.off_link(hook)
        handle(False)
        connect = handle.connect
        before = list(loaded)
        handle.stats()
    finally:
        utils.forget = forget
    return before, loaded, hooks, handle._hooks == [hook], callable(connect)


check(
    "handle_start_up_loads_nothing",
    handle_start_up_loads() == ([], ["pysmartnode.networking.mqtt_rare"], [True], True, True),
)


def use_once_leaves_sys_modules_as_found():
    # A module loaded for one use goes, and its package with it when that import loaded it
    # (start-up drops the empty packages; discovery's publications load modules under one)
    import sys

    from pysmartnode.utils import forget, use_once

    package = "pysmartnode.utils.component"
    name = package + ".definitions"
    forget(package)
    used = use_once(name).SENSOR_TEMPERATURE == "temperature"
    fresh = package not in sys.modules and name not in sys.modules
    __import__(package)
    use_once(name)
    kept = package in sys.modules and name not in sys.modules
    return used, fresh, kept


check("use_once_as_found", use_once_leaves_sys_modules_as_found() == (True, True, True))


def watcher_feed_without_heap():
    # The watchdog's task calls the shell process's feed() with no try of its own (its frame
    # lives as long as the node): no heap for a moment is a period not written, not an
    # exception that would end the task (and the node's reset a minute later)
    from pysmartnode.platform.unix_watch import Watcher

    class NoHeap:
        def __add__(self, n):
            return self

        def __str__(self):
            raise MemoryError("no heap (on purpose)")

    watcher = object.__new__(Watcher)
    watcher._count = NoHeap()
    watcher._path = "/dev/null"
    try:
        return watcher.feed()
    except MemoryError:
        return "raised"


check("watcher_feed_no_heap", watcher_feed_without_heap() is False)

# time: EU summer time starts and ends at 01:00 UTC on the last Sundays of March and October
check("weekday", ntp.weekday(2024, 3, 31) == 0 and ntp.weekday(2000, 1, 1) == 6)
check("dst_before", not ntp.eu_summer_time(2024, 3, 31, 0))
check("dst_start", ntp.eu_summer_time(2024, 3, 31, 1))
check("dst_summer", ntp.eu_summer_time(2024, 7, 1, 12))
check("dst_end", not ntp.eu_summer_time(2024, 10, 27, 1))
check("dst_last_hour", ntp.eu_summer_time(2024, 10, 27, 0))
check("dst_winter", not ntp.eu_summer_time(2024, 12, 1, 12))

# tls: PEM to DER
pem = "-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\n"
check("pem_to_der", pem_to_der(pem) == b"\x00\x01\x02\x03")
print("unit checks done")
