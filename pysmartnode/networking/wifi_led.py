"""The status LED: a blink pattern tells the state of the connection to the broker.

start:            one long flash (0.5 s)
connected:        five quick flashes, then a short double flash every 30 s
disconnected:     three long flashes every 5 s until the broker is back

Start-up runs one for WIFI_LED; the component machine/wifi_led.py runs one on any pin.
"""

import asyncio


class WifiLed:
    """Blinks led (an object with on()/off()) following the handle's connection state.

    Args:
        led: the LED, lit by on(), dark after off().
        mqtt: the node's MQTTHandle, or None (no broker: the disconnected pattern).
    """

    def __init__(self, led, mqtt):
        self._led = led
        self._mqtt = mqtt
        self._up = mqtt is not None and mqtt.isconnected()  # a component may start later
        self._changed = asyncio.Event()
        self._hook = self._on_link  # one bound method: off_link finds the same object
        if mqtt is not None:
            mqtt.on_link(self._hook)
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
        """Ends the blinking and turns the LED off."""
        self._task.cancel()
        if self._mqtt is not None:
            self._mqtt.off_link(self._hook)
        self._led.off()
