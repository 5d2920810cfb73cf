"""MicroPython boards with Wi-Fi: ESP32, ESP8266, Raspberry Pi Pico W (rp2).

Written for the boards; the tests import it on the unix port with the fakes in tests/fakes/.
"""

import asyncio
import sys
import time

import machine
import network
from micropython import const

KEEPS_TIME = False  # the OS keeps the clock: no NTP task
PLATFORM = sys.platform
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
ticks_add = time.ticks_add
sleep_ms = asyncio.sleep_ms  # sleep() makes a float: an allocation

_CONNECT_TIMEOUT_MS = const(30000)  # give up one attempt after this, then start again
_POLL_S = 0.5
_CAUSES = (
    ("PWRON_RESET", "power on"),
    ("HARD_RESET", "hard reset"),
    ("WDT_RESET", "hardware watchdog"),
    ("DEEPSLEEP_RESET", "wake from deep sleep"),
    ("SOFT_RESET", "soft reset"),
)


def device_id():
    import binascii

    return binascii.hexlify(machine.unique_id()).decode()


def mem_free():
    import gc

    return gc.mem_free()


def mem_alloc():
    import gc

    return gc.mem_alloc()


def collect():
    import gc

    gc.collect()


def reset_cause():
    cause = machine.reset_cause()
    for name, text in _CAUSES:
        if getattr(machine, name, None) == cause:
            return text
    return "unknown (%s)" % cause


def restart(code=1):
    machine.reset()


class _Every:
    interrupted = False  # a timer callback never receives a signal

    def __init__(self, seconds, func):
        self._func = func
        # soft timer (-1) where the port has one; its callback is scheduled, so it may allocate
        try:
            self._timer = machine.Timer(-1)
        except (ValueError, TypeError):
            self._timer = machine.Timer(0)
        self._timer.init(
            period=int(seconds * 1000), mode=machine.Timer.PERIODIC, callback=self._tick
        )

    def _tick(self, _timer):
        self._func()

    def stop(self):
        self._timer.deinit()


def every(seconds, func):
    return _Every(seconds, func)


def irq_flag():
    import asyncio

    flag = getattr(asyncio, "ThreadSafeFlag", None)  # a build without it: the caller polls
    return flag() if flag is not None else None


class Link:
    """The station interface, with a callback on every change of state."""

    watched = True  # the MQTT client checks this link and calls up() to bring it back

    def __init__(self):
        self._wlan = network.WLAN(network.STA_IF)
        self._credentials = (None, None, None)
        self._callbacks = []
        self._watcher = None
        self._state = None

    def isconnected(self):
        return self._wlan.isconnected()

    def ip(self):
        return self._wlan.ifconfig()[0] if self._wlan.isconnected() else None

    def rssi(self):
        try:
            return self._wlan.status("rssi")
        except (ValueError, OSError):
            return None

    def on_change(self, callback):
        """callback(up: bool) runs on every change of the link's state."""
        self._callbacks.append(callback)

    async def up(self):
        """Reconnects with the credentials connect() had (the MQTT client calls it)."""
        await self.connect(*self._credentials)

    async def connect(self, ssid, password, hostname=None):
        """Returns once the station is connected; retries for ever."""
        self._credentials = (ssid, password, hostname)
        if hostname and hasattr(network, "hostname"):
            network.hostname(hostname)
        if sys.platform == "esp8266":
            network.WLAN(network.AP_IF).active(False)  # the default access point wastes RAM
        self._wlan.active(True)
        while not self._wlan.isconnected():
            if ssid:
                self._wlan.connect(ssid, password)
            started = ticks_ms()
            while not self._wlan.isconnected():
                if ticks_diff(ticks_ms(), started) > _CONNECT_TIMEOUT_MS:
                    self._wlan.disconnect()
                    break
                await asyncio.sleep(_POLL_S)
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch())
        return True

    async def _watch(self):
        while True:
            up = self._wlan.isconnected()
            if up != self._state:
                self._state = up
                for callback in self._callbacks:
                    callback(up)
            await asyncio.sleep(1)


class _Led:
    def __init__(self, pin, active_high):
        self._signal = machine.Signal(machine.Pin(pin, machine.Pin.OUT), invert=not active_high)
        self._signal.off()

    def on(self):
        self._signal.on()

    def off(self):
        self._signal.off()


def led(pin, active_high=True):
    return _Led(pin, active_high)


def ntp_sync(server):
    import ntptime

    ntptime.host = server
    ntptime.settime()  # the RTC keeps UTC; log timestamps add the offset
    return True
