"""A dosing pump on a GPIO pin: doses N ml at its calibrated flow, never longer than its fail-safe.

A switch (`ON`/`OFF` on `./<name>/set`, state retained on `./<name>`) plus a Home Assistant
`number` `<name>_dose`: ml on `./<name>/dose/set` start a dose; `./<name>/dose` shows the ml of
the dose in progress (retained, `0` when idle) and the switch is `ON` while it pumps. A new dose
replaces the one in progress (logged with what was dosed so far); `0` or `OFF` stops it. A dose
that would keep the pump on longer than `max_on_time` (counted from when it went on) is refused
and logged: nothing runs. A retained dose command is ignored (it would dose at every start).

Example config (hjson):
    ph_down: {
        package: .switches.dosing_pump
        component: DosingPump
        constructor_args: {
            pin: 13                # GPIO number or board pin name of the pump's driver
            flow: 1.5              # ml per second, calibrated: time a dose into a cylinder
            max_on_time: 60        # optional, seconds (default 60): the longest the pump runs
            active_low: false      # optional: true for drivers that switch on at 0 V
            restore: "off"         # optional: "off" (default here), "restore" or "on"
        }
    }
"""

import asyncio

from pysmartnode.platform import hardware, ticks_diff, ticks_ms
from pysmartnode.utils.component import ComponentSwitch


class DosingPump(ComponentSwitch):
    def __init__(self, name, pin, flow, max_on_time=60, active_low=False, restore="off",
                 **kwargs):  # fmt: skip
        if max_on_time is None:
            raise ValueError("a dosing pump needs max_on_time (seconds), its fail-safe")
        super().__init__(name, restore=restore, max_on_time=max_on_time, **kwargs)
        if isinstance(flow, bool) or not isinstance(flow, (int, float)) or not flow > 0:
            raise ValueError("flow must be ml per second > 0, got %r" % (flow,))
        if not isinstance(active_low, bool):
            raise ValueError("active_low must be true or false, got %r" % (active_low,))
        self._flow = flow
        self._max_ml = int(flow * max_on_time * 10) / 10  # what one run can dose, 0.1 ml steps
        self._on_level = 0 if active_low else 1
        self._pin = hardware.pin(pin, out=True, value=1 - self._on_level)  # off from the start
        self._on_since = None  # ticks_ms when the pump went on
        self._dose_ml = 0  # the dose in progress, 0: none
        self._dose_started = None  # ticks_ms when it started
        self._dose_task = None
        self._dose_lock = asyncio.Lock()  # doses one after the other, each sees the last

    def dosing(self):
        """The ml of the dose in progress, 0 when none runs."""
        return self._dose_ml

    async def dose(self, ml):
        """Starts a dose of ml (0: stop), replacing one in progress; True once the pump runs.

        Raises ValueError (nothing changes) if ml is not a number 0..max, or if the pump would
        run longer than max_on_time."""
        async with self._dose_lock:
            if (
                isinstance(ml, bool)
                or not isinstance(ml, (int, float))
                or not 0 <= ml <= self._max_ml
            ):
                raise ValueError("a dose is 0..%s ml, got %r" % (self._max_ml, ml))
            seconds = ml / self._flow
            ran = ticks_diff(ticks_ms(), self._on_since) / 1000 if self._state else 0
            if ran + seconds > self._max_on_time:
                raise ValueError(
                    "a dose of %s ml needs %.1f s, the pump has run %.1f s of max_on_time %s s"
                    % (ml, seconds, ran, self._max_on_time)
                )
            if self._dose_task is not None:
                self._stop_dose("a new dose of %s ml" % ml)
            if not ml:
                return await self.off()
            self._dose_ml = ml
            if self._state:
                self._publish_soon()
            elif not await self.on():
                self._dose_ml = 0
                return False
            self._log.info("dosing %s ml (%.1f s)", ml, seconds)
            self._dose_started = ticks_ms()
            self._dose_task = asyncio.create_task(self._finish(ml, seconds))
            return True

    async def _finish(self, ml, seconds):
        await asyncio.sleep(seconds)
        self._dose_task = None
        if await self.off():
            self._log.info("dosed %s ml", ml)

    def _stop_dose(self, why):
        done = ticks_diff(ticks_ms(), self._dose_started) / 1000 * self._flow
        self._log.warning(
            "dose of %s ml stopped after %.1f ml: %s", self._dose_ml, min(done, self._dose_ml), why
        )
        self._dose_task.cancel()  # never the running task: _finish lets go of it before off()
        self._dose_task = None
        self._dose_ml = 0

    async def _on(self):
        self._pin.value(self._on_level)
        if not self._state:
            self._on_since = ticks_ms()
        return True

    async def _off(self):
        self._pin.value(1 - self._on_level)
        if self._dose_task is not None:
            self._stop_dose("turned off")
        self._dose_ml = 0
        return True

    def _start(self):
        super()._start()
        self._subscribe(self._topic + "/dose/set", self._on_dose)

    async def _on_dose(self, topic, msg, retained):
        if retained:
            self._log.warning("ignored a retained dose %.40r: doses are never replayed", msg)
            return
        try:
            ml = float(msg)
        except ValueError:
            self._log.warning("ignored dose %.40r: want ml 0..%s", msg, self._max_ml)
            return
        try:
            await self.dose(ml)
        except ValueError as e:
            self._log.error("dose refused: %s", e)

    async def _publish_state(self):
        await super()._publish_state()
        try:
            await self._publish(self._topic + "/dose", str(self._dose_ml), True, 1)
        except Exception as e:
            self._log.error("publishing the dose failed: %s", e)

    def discovery_entities(self):
        topic = self._topic
        dose = {
            "name": self._entity_name("dose"),
            "cmd_t": topic + "/dose/set",
            "stat_t": topic + "/dose",
            "min": 0,
            "max": self._max_ml,
            "step": 0.1,
            "mode": "box",
            "unit_of_meas": "mL",
            "dev_cla": "volume",
        }
        return super().discovery_entities() + [(self.name + "_dose", "number", dose)]
