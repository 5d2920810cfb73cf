"""A buzzer (passive piezo or speaker) on a PWM pin: a continuous tone and beep patterns.

A switch: `ON` sounds the tone until `OFF` (or `max_on_time`). A Home Assistant button
`<name>_beep` (`PRESS` on `./<name>/beep/set`) plays the pattern: sound and silence in turn, in
seconds; afterwards the buzzer is as its switch state says. A new beep or a switch command
stops a pattern that still plays. Other components call `await buzzer.beep(pattern)`.

Example config (hjson):
    buzzer: {
        package: .switches.buzzer
        component: Buzzer
        constructor_args: {
            pin: 15                # GPIO number or board pin name of the PWM output
            freq: 2000             # optional, Hz of the tone (a piezo is loudest near its resonance)
            volume: 100            # optional, percent: 100 is a 50 % duty, the loudest
            pattern: [0.1, 0.1, 0.1]  # optional, seconds of sound, silence, sound, ... (at most 32)
            restore: "off"         # optional: "off" (default here), "restore" or "on"
            max_on_time: 60        # optional, seconds a continuous tone lasts (ComponentSwitch)
        }
    }
"""

import asyncio

from pysmartnode.platform import const, hardware
from pysmartnode.utils.component import ComponentSwitch

_MAX_STEPS = const(32)
_MAX_STEP = const(10)  # seconds


class Buzzer(ComponentSwitch):
    def __init__(self, name, pin, freq=2000, volume=100, pattern=(0.1, 0.1, 0.1), restore="off",
                 **kwargs):  # fmt: skip
        super().__init__(name, restore=restore, **kwargs)
        if isinstance(volume, bool) or not isinstance(volume, int) or not 1 <= volume <= 100:
            raise ValueError("volume must be a whole percent 1..100, got %r" % (volume,))
        if isinstance(freq, bool) or not isinstance(freq, int) or not 20 <= freq <= 20000:
            raise ValueError("freq must be whole Hz 20..20000, got %r" % (freq,))
        self._pattern = self._check(pattern)
        self._loud = volume * 32768 // 100  # a square wave is loudest at half duty
        self._pwm = hardware.pwm(pin, freq, duty_u16=0)  # silent from the start
        self._beeping = None  # the task playing a pattern

    async def beep(self, pattern=None):
        """Plays pattern (default: the configured one), stopping one that still plays; returns
        once it started. Raises ValueError for a bad pattern (nothing plays)."""
        pattern = self._pattern if pattern is None else self._check(pattern)
        self._stop_beep()
        self._beeping = asyncio.create_task(self._play(pattern))

    def _check(self, pattern):
        if not isinstance(pattern, (list, tuple)) or not 0 < len(pattern) <= _MAX_STEPS:
            raise ValueError("pattern must be a list of 1 to %d durations, got %r"
                             % (_MAX_STEPS, pattern))  # fmt: skip
        for step in pattern:
            if isinstance(step, bool) or not isinstance(step, (int, float)):
                raise ValueError("pattern steps are seconds, got %r" % (step,))
            if not 0 < step <= _MAX_STEP:
                raise ValueError("pattern steps are 0..%d s, got %r" % (_MAX_STEP, step))
        return tuple(pattern)

    async def _play(self, pattern):
        try:
            for i, seconds in enumerate(pattern):
                self._pwm.duty_u16(0 if i % 2 else self._loud)
                await asyncio.sleep(seconds)
            self._pwm.duty_u16(self._loud if self._state else 0)
        except Exception as e:  # a task nobody awaits: say it here
            self._log.error("beep failed: %s: %s", type(e).__name__, e)
        self._beeping = None

    def _stop_beep(self):
        if self._beeping is not None:
            self._beeping.cancel()
            self._beeping = None

    async def _on(self):
        self._stop_beep()
        self._pwm.duty_u16(self._loud)
        return True

    async def _off(self):
        self._stop_beep()
        self._pwm.duty_u16(0)
        return True

    def _start(self):
        super()._start()
        self._subscribe(self._topic + "/beep/set", self._on_beep)

    async def _on_beep(self, topic, msg, retained):
        if retained:
            return  # a stale retained press must not beep at every start
        if msg == "PRESS":
            await self.beep()
        else:
            self._log.warning("ignored beep %.40r: want PRESS", msg)

    def stop(self):
        self._stop_beep()
        super().stop()

    def discovery_entities(self):
        beep = {"name": self._entity_name("beep"), "cmd_t": self._topic + "/beep/set",
                "pl_prs": "PRESS"}  # fmt: skip
        return super().discovery_entities() + [(self.name + "_beep", "button", beep)]
