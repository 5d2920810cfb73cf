"""The status LED (WIFI_LED): a blink pattern tells the state of the connection.

start:            one long flash (0.5 s)
connected:        five quick flashes, then a short double flash every 30 s
disconnected:     three long flashes every 5 s until the broker is back
"""

import asyncio


class WifiLed:
    """Blinks led (an object with on()/off()) following the handle's connection state."""

    def __init__(self, led, mqtt):
        self._led = led
        self._up = False
        self._changed = asyncio.Event()
        mqtt.on_link(self._on_link)
        self._task = asyncio.create_task(self._loop())

    def _on_link(self, up):
        self._up = up
        self._changed.set()

    async def _blink(self, count, on_s, off_s):
        for _ in range(count):
            self._led.on()
            await asyncio.sleep(on_s)
            self._led.off()
            await asyncio.sleep(off_s)

    async def _loop(self):
        await self._blink(1, 0.5, 0.5)
        while True:
            self._changed.clear()
            if self._up:
                await self._blink(5, 0.05, 0.1)
                while self._up:
                    await self._blink(2, 0.02, 0.25)
                    await self._wait(30)
            else:
                await self._blink(3, 0.5, 0.5)
                await self._wait(5)

    async def _wait(self, seconds):
        try:
            await asyncio.wait_for(self._changed.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        self._changed.clear()

    def stop(self):
        self._task.cancel()
        self._led.off()
