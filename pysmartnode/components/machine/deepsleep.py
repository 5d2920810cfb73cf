"""Deep sleep between readings, for a board on a battery: the node runs for `awake` seconds
(it connects, announces itself, its sensors read and publish), then the board sleeps for
`sleep` seconds and starts again from reset.

Before it sleeps it waits for the log to go out and says so (`going to deep sleep for 600 s`).
Home Assistant shows the node unavailable while it sleeps (its will arrives once the broker
notices), so give sensors `expire_after` no shorter than the sleep. Boards only: on Linux
(CPython, the unix port) the component fails at build with "deep sleep is not supported here".

Example config (hjson):
    sleep: {
        package: .machine.deepsleep
        component: DeepSleep
        constructor_args: {
            sleep: 600             # seconds asleep (the board resets when it wakes)
            awake: 30              # optional, seconds awake after start before sleeping
        }
    }
"""

import asyncio

from pysmartnode.logging import logger
from pysmartnode.platform import PLATFORM, hardware
from pysmartnode.utils.component import ComponentBase


class DeepSleep(ComponentBase):
    def __init__(self, name, sleep, awake=30, discover=True, friendly_name=None):
        super().__init__(name, discover, friendly_name)
        for key, value in (("sleep", sleep), ("awake", awake)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError("%s must be seconds > 0, got %r" % (key, value))
        try:
            self._deepsleep = hardware.deepsleep_function()
        except OSError as e:
            raise OSError("deep sleep is not supported here (%s): %s" % (PLATFORM, e)) from None
        self._sleep = sleep
        self._awake = awake

    def _start(self):
        self._spawn(self._cycle)

    async def _cycle(self):
        await asyncio.sleep(self._awake)
        self._log.info("going to deep sleep for %s s", self._sleep)
        await logger.flush(2)
        self._deepsleep(int(self._sleep * 1000))  # a board resets when it wakes: no return
        self._log.warning("deep sleep returned without a reset: staying awake")
