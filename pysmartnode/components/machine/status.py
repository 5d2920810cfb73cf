"""The node's own status, published to `./status` after every connect, every
INTERVAL_SENSOR_PUBLISH seconds, and whenever anything is published to `./status/set`.

Payload (JSON): version, platform, id, uptime (s), ram_free (bytes free after a garbage
collection; null on CPython), reconnects, downtime (s the broker was unreachable since start),
dropped (publishes the client's offline queue dropped), log_dropped (log messages dropped), ip
(null where unknown).
Built in: pysmartnode.main starts it; it needs no config.
"""

import asyncio

from pysmartnode import logging
from pysmartnode.platform import PLATFORM, collect, mem_free, ticks_diff, ticks_ms
from pysmartnode.version import VERSION


class Status:
    """Publishes the node's status.

    Args:
        mqtt: the node's MQTTHandle.
        interval: seconds between periodic reports.
        link: the platform Link, for the IP address.
    """

    def __init__(self, mqtt, interval, link=None):
        self._mqtt = mqtt
        self._interval = interval
        self._link = link
        self._uptime_ms = 0
        self._ticks = ticks_ms()
        self._request = asyncio.Event()
        self._log = logging.getLogger("status")
        mqtt.subscribe("./status/set", self._on_request, qos=0)
        mqtt.on_connect(self._on_connect)
        self._task = asyncio.create_task(self._loop())

    def _on_request(self, topic, msg, retained):
        if not retained:
            self._request.set()

    def _on_connect(self, reason):
        if reason != "homeassistant":
            self._request.set()

    def uptime(self):
        """Seconds since start (the tick counter wraps on boards, so it is summed up here)."""
        now = ticks_ms()
        self._uptime_ms += ticks_diff(now, self._ticks)
        self._ticks = now
        return self._uptime_ms // 1000

    @staticmethod
    def _ram_free():
        if mem_free() is None:
            return None  # CPython: no fixed heap
        collect()  # what is free once the garbage is gone, not what the last collection left
        return mem_free()

    def report(self):
        """The status as a dict."""
        from pysmartnode.logging.logger import dropped

        stats = self._mqtt.stats()
        return {
            "version": VERSION,
            "platform": PLATFORM,
            "id": self._mqtt.device_id,
            "uptime": self.uptime(),
            "ram_free": self._ram_free(),
            "reconnects": stats["reconnects"],
            "downtime": round(stats["downtime"], 1),
            "dropped": stats["dropped"],
            "log_dropped": dropped(),
            "ip": self._link.ip() if self._link else None,
        }

    async def _loop(self):
        while True:
            try:
                await asyncio.wait_for(self._request.wait(), self._interval)
            except asyncio.TimeoutError:
                pass
            self._request.clear()
            if self._mqtt.isconnected():
                try:
                    await self._mqtt.publish("./status", self.report(), qos=1)
                except Exception as e:  # a failed report must not end the reports
                    self._log.error("status report failed: %s", e)

    def stop(self):
        self._task.cancel()
