"""The node's own status, published to `./status` after every connect, every
INTERVAL_SENSOR_PUBLISH seconds, and whenever anything is published to `./status/set`.

Payload (JSON): version, platform, id, uptime (s), ram_free (bytes free after a garbage
collection; null on CPython), reconnects, downtime (s the broker was unreachable since the first connect),
dropped (publishes the client's offline queue dropped), log_dropped (log messages dropped), ip
(null where unknown), components (how many run), components_failed (how many did not load),
config_hash (sha256 hex of the component config that runs, as the SmartServer computes it; null
without components), reset_reason (why the node last ended: the reason it recorded, else the
board's reset cause; null where neither is known).
Built in: pysmartnode.main starts it; it needs no config.

Home Assistant shows it as diagnostic entities of the node (uptime, free RAM where the port
knows it, reconnects, IP, version) and a restart button (`./restart/set`, payload PRESS).
"""

import asyncio

from pysmartnode.platform import const
from pysmartnode.version import VERSION

# The platform's functions are imported where they are used (a report, the start): this
# module's table then holds 7 names, 8 slots, not 12
# What the loop does (Status._state): one attribute, not a flag each (an instance table of 8
# slots, not 12)
_BUSY = const(0)  # reporting, or about to look whether a report is due
_SLEEPING = const(1)  # waits out the interval: a request cancels that wait
_DUE = const(2)  # a report is asked for: no wait before the next
_STOPPED = const(3)


class Status:
    """Publishes the node's status.

    Args:
        mqtt: the node's MQTTHandle.
        interval: seconds between periodic reports.
        link: the platform Link, for the IP address (None: no IP).
    """

    # Class-level (the class dict has room): an instance dict of 8 names, 8 slots, not 12. The
    # class dict itself holds 11 names (12 slots; the 13th grows it to 17). The status is its
    # own callback (__call__) for both its topics and the connect hook: the handle holds it,
    # not a bound method per registration
    name = "status"
    discover = True

    def __init__(self, mqtt, interval, link):  # no default: a function of 32 B, not 64
        self._mqtt = mqtt
        self._interval = interval
        self._link = link
        self._uptime_ms = 0
        from pysmartnode.platform import ticks_ms

        self._ticks = ticks_ms()
        self._state = _BUSY
        self.reports = 0  # status reports the broker took (a config push waits for the next)
        mqtt.subscribe("./status/set", self, qos=0)
        mqtt.subscribe("./restart/set", self, qos=1)
        mqtt.on_connect(self)
        self._task = asyncio.create_task(self._loop())

    def __call__(self, *args):
        # args: (topic, msg, retained) of a message on ./status/set or ./restart/set, where a
        # retained one is stale (a retained press must not restart the node at every start);
        # (reason,) of a connect hook, where "homeassistant" needs no report (discovery's state
        # pass after its config asks, through _publish_state)
        if args and (args[0] == "homeassistant" or len(args) > 2 and args[2]):
            return
        if args and args[0] == "./restart/set":
            from pysmartnode.logging import logger

            if args[1] != "PRESS":
                logger.getLogger("status").warning(
                    "ignored restart command %.40r: want PRESS", args[1]
                )
                return

            async def restart():  # made only when asked: no function of the class's for good
                from pysmartnode.platform import restart

                logger.getLogger("status").warning("restart requested over MQTT")
                await logger.flush(2)
                logger.record_reset("restart requested over MQTT")
                restart(1)  # on Linux: exit; a supervisor (systemd Restart=on-failure) restarts

            asyncio.create_task(restart())
            return
        # A report at once: the loop's wait for the interval is cancelled. No asyncio.wait_for
        # on an Event: that loads asyncio.funcs (0.9 KiB of heap for good) and makes two tasks
        # per wait on MicroPython
        if self._state == _SLEEPING:
            self._task.cancel()
        if self._state != _STOPPED:
            self._state = _DUE

    def report(self):
        """The status as a dict."""
        from pysmartnode import node
        from pysmartnode.logging.logger import _dropped as dropped  # (its count now)
        from pysmartnode.platform import PLATFORM, collect, mem_free, ticks_diff, ticks_ms

        now = ticks_ms()  # uptime: the tick counter wraps on boards, so it is summed up here
        self._uptime_ms += ticks_diff(now, self._ticks)
        self._ticks = now
        # The client's own: the handle's stats() would load mqtt_rare.py for every report
        stats = self._mqtt._client.stats()
        if mem_free() is not None:  # None on CPython: no fixed heap
            collect()  # what is free once the garbage is gone, not what the last one left
        return {
            "version": VERSION,
            "platform": PLATFORM,
            "id": self._mqtt.device_id,
            "uptime": self._uptime_ms // 1000,
            "ram_free": mem_free(),
            "reconnects": stats["reconnects"],
            "downtime": round(stats["downtime"], 1),
            "dropped": stats["dropped"],
            "log_dropped": dropped,
            "ip": self._link.ip() if self._link else None,
            "components": len(node.components),
            "components_failed": len(node.failed),
            "config_hash": node.config_hash,
            "reset_reason": node.reset_reason,
        }

    async def _loop(self):
        while True:
            if self._state != _DUE:
                self._state = _SLEEPING
                try:
                    await asyncio.sleep(self._interval)
                except asyncio.CancelledError:  # a request set _DUE; a stop or any other cancel
                    if self._state != _DUE:  # (CPython's asyncio.run at its end) ends the loop
                        raise
                    if hasattr(self._task, "uncancel"):  # CPython counts them: this was a request
                        self._task.uncancel()
            self._state = _BUSY
            try:
                if await _report(self):
                    self.reports += 1
            except MemoryError:  # no heap even for _report's coroutine: the next interval reports
                pass

    def stop(self):
        self._state = _STOPPED
        self._task.cancel()

    async def _publish_state(self):
        self()

    def discovery_entities(self):
        """Diagnostic entities read from the JSON on ./status, and the restart button.

        Made one at a time (a generator: the status is no component, only discovery iterates
        these): at the first connect the discovery publication is the idle node's heap peak.
        Its frame is under the client's while it writes: few locals, no `for` (an iterator's
        4 words), 128 B (64-bit)."""
        i = 0
        while i < 5:
            key = ("uptime", "ram_free", "reconnects", "ip", "version")[i]
            i += 1
            if key == "uptime":
                fields = {"dev_cla": "duration", "unit_of_meas": "s",
                          "stat_cla": "total_increasing", "name": "Uptime"}  # fmt: skip
            elif key == "ram_free":
                from pysmartnode.platform import mem_free

                if mem_free() is None:
                    continue  # CPython has no fixed heap: the value is always null
                fields = {"dev_cla": "data_size", "unit_of_meas": "B",
                          "stat_cla": "measurement", "name": "Free RAM"}  # fmt: skip
            elif key == "reconnects":
                fields = {"stat_cla": "total_increasing", "name": "Reconnects"}
            else:
                fields = {"name": "IP address" if key == "ip" else "Version"}
            fields["stat_t"] = "./status"
            fields["val_tpl"] = "{{ value_json.%s }}" % key
            fields["ent_cat"] = "diagnostic"
            fields["exp_aft"] = int(self._interval * 2.1) + 5
            yield "status_" + key, "sensor", fields
        fields = {"name": "Restart", "cmd_t": "./restart/set", "pl_prs": "PRESS",
                  "dev_cla": "restart", "ent_cat": "config"}  # fmt: skip
        yield "status_restart", "button", fields


async def _report(status):
    # Publishes one report; True once the broker took it. A coroutine of its own, not code of
    # the loop's: the loop's frame lives as long as the node, and what runs here (the report
    # on the stack as an argument, the node, the exception handling) would stay in it (the
    # report dict: ~0.4 KB of the idle node's heap for good; each handler's nesting: 32 B). Of
    # the module, not a closure of the loop's (64 B for good) nor a method (the class's table
    # is full)
    try:  # a MemoryError anywhere here, the log line's too, must not end the reports
        from pysmartnode import node

        if node.discovery is not None and not node.discovery.ready():
            # Home Assistant gets the config before the state: discovery's state pass after
            # the config asks for this report (_publish_state)
            return False
        if not status._mqtt.isconnected():
            return False
        try:
            return await status._mqtt.publish("./status", status.report(), qos=1)
        except Exception as e:  # a failed report must not end the reports
            from pysmartnode.logging.logger import getLogger

            getLogger("status").error("status report failed: %s", e)
    except MemoryError:  # no heap for a moment: the next interval reports
        pass
    return False
