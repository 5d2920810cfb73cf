"""Wi-Fi station link for boards, used when the config names an `ssid` (as mqtt_as configs do).

A link is any object with `async up()` (return once the network is usable, raise OSError if it
cannot be) and `isconnected()`. The client awaits up() before every connection attempt and
treats isconnected() == False as a dead link. Unix and CPython need no link: the host's network
is the operating system's business.
"""

import asyncio


class WLAN:
    def __init__(self, ssid, password, timeout=30):
        try:
            import network
        except ImportError:
            raise ValueError(
                "config names an ssid, but this port has no `network` module; on unix and "
                "CPython the host's network is used: leave ssid out"
            ) from None
        self._network = network
        self._ssid = ssid
        self._password = password
        self._timeout = timeout
        self._sta = network.WLAN(network.STA_IF)

    async def up(self):
        sta = self._sta
        if sta.isconnected():
            return
        sta.active(True)
        try:
            from sys import platform

            if platform == "rp2":
                sta.config(pm=0xA11140)  # Pico W: power saving drops packets and subscriptions
        except (ImportError, ValueError, OSError):
            pass  # older firmware without the option still connects
        if self._ssid:  # an ESP8266 without ssid reuses the credentials it stored last time
            sta.connect(self._ssid, self._password)
        for _ in range(self._timeout * 4):
            if sta.isconnected():
                return
            await asyncio.sleep(0.25)
        status = sta.status()
        sta.disconnect()  # the next attempt starts from a clean state
        raise OSError(
            "Wi-Fi: could not join %r within %d s (status %r)" % (self._ssid, self._timeout, status)
        )

    def isconnected(self):
        return self._sta.isconnected()
