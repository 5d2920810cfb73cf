"""ComponentSwitch: on/off/toggle with a retained state, restore mode and fail-safes. See
docs/components.md."""

import asyncio

from pysmartnode.utils.component.base import ComponentBase


class ComponentSwitch(ComponentBase):
    """A switch: the subclass drives the hardware, the base owns topics, state and safety.

    Subclasses implement `async _on()` and `async _off()`: return True once the hardware has
    switched (False or raising: it has not; the state stays as it was and it is logged).

    Commands on `./<name>/set`: `ON`, `OFF`, `TOGGLE` (anything else is logged and ignored).
    The state is published retained on `./<name>` after every change, and after discovery on
    every connect. Commands never run at the same time: they queue, in order.

    Args:
        name: the config key (see ComponentBase).
        restore: at start, "restore" the retained state (default), or start "off" or "on".
        max_on_time: seconds after which the switch turns itself off again (None: never).
        offline_off: seconds without the broker after which the switch turns off (None: never);
            a pump must not run on because its controller vanished.
        discover, friendly_name: see ComponentBase.

    Events: `getStateChangeEvent()` is set on every change (the consumer clears it).

    Its rarely used methods (state, topic, getStateChangeEvent, toggle, and the hooks' defaults)
    are functions in switch_api.py, loaded for each call (ComponentBase.__getattr__).
    """

    _rare = "switch_api state topic getStateChangeEvent toggle _on _off _queued _publish_soon "

    # Defaults (base._DEFAULTS: None), set per instance only when they differ: _max_on_time,
    # _offline_off, _state (unknown until the first switch or restore), _timer (the
    # max_on_time task), _offline_timer, _event (getStateChangeEvent's, made on first use),
    # _queue (commands waiting for their turn, their Events; [] while one runs); _restore
    # ("restore"). The class table holds 12 names (a 13th grows it to 17 slots: 80 B more), so
    # _queued, _next_turn and _publish_soon are functions of this module (_queued and
    # _publish_soon also answer as methods, through switch_api, for subclasses)

    def __init__(self, name, restore="restore", max_on_time=None, offline_off=None,
                 discover=True, friendly_name=None):  # fmt: skip
        ComponentBase.__init__(self, name, discover, friendly_name)
        if restore not in ("restore", "off", "on"):
            raise ValueError("restore must be 'restore', 'off' or 'on', got %r" % (restore,))
        for key, value in (("max_on_time", max_on_time), ("offline_off", offline_off)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or value <= 0):  # fmt: skip
                raise ValueError("%s must be seconds > 0 or None, got %r" % (key, value))
        if restore != "restore":
            self._restore = restore
        if max_on_time is not None:
            self._max_on_time = max_on_time
        if offline_off is not None:
            self._offline_off = offline_off

    # ------------------------------------------------------------------ public API

    async def on(self):
        """Turns on; returns True if the switch is on afterwards."""
        return await _queued(self, self._switch, True)

    async def off(self):
        """Turns off; returns True if the switch is off afterwards."""
        return await _queued(self, self._switch, False)

    # ------------------------------------------------------------------ internals

    async def _switch(self, state, why=None):
        try:
            done = await (self._on() if state else self._off())
        except Exception as e:  # the hardware failed: log, keep the state we know
            self._log.error(
                "turning %s failed: %s: %s", "on" if state else "off", type(e).__name__, e
            )
            return False
        if done is not True:
            self._log.error("turning %s failed", "on" if state else "off")
            return False
        changed = state != self._state
        self._state = state
        if why:
            self._log.warning("turned off: %s", why)
        if self._max_on_time or self._timer is not None:
            from pysmartnode.utils.component.switch_timers import rearm

            rearm(self, state)
        if changed and self._event is not None:
            self._event.set()
        _publish_soon(self)
        return True

    def _start(self):
        # Not through _subscribe: stop() knows this one topic, no list of them per switch. The
        # callback is the switch itself (__call__): a bound method would be an object per switch
        self._mqtt.subscribe(self._topic + "/set", self, 1, self._restore == "restore")
        if self._offline_off:
            from pysmartnode.utils.component.switch_timers import watch_link

            watch_link(self)
        if self._restore != "restore":
            self._spawn(self.on if self._restore == "on" else self.off)

    def __call__(self, topic, msg, retained):
        # The command callback (see _start). retained: the state topic's retained value,
        # delivered once at start (restore)
        if msg == "TOGGLE" and not retained:
            asyncio.create_task(self.toggle())
        elif msg == "ON" or msg == "OFF":
            if retained:
                self._log.info("restoring %s", msg)
            asyncio.create_task(self.on() if msg == "ON" else self.off())
        else:
            self._log.warning("ignored command %.40r: want ON, OFF or TOGGLE", msg)

    async def _publish_state(self):
        state = self._state
        if state is None:
            return
        try:
            await self._publish(self._topic, "ON" if state else "OFF", True, 1)
        except Exception as e:
            self._log.error("publishing the state failed: %s", e)

    def stop(self):
        if self._timer is not None or self._offline_timer is not None:
            from pysmartnode.utils.component.switch_timers import stop

            stop(self)
        if self._mqtt is not None:
            self._mqtt.unsubscribe(self._topic + "/set", self)
        ComponentBase.stop(self)

    def discovery_entities(self):
        fields = {"name": self._entity_name(), "stat_t": self._topic, "cmd_t": self._topic + "/set"}
        return [(self.name, "switch", fields)]


async def _queued(switch, func, *args):
    # Runs `await func(*args)` in its turn: commands one at a time, in order. An Event is
    # made only for a command that has to wait (no asyncio.Lock per switch, nor its module)
    if switch._queue is None:
        switch._queue = []
    else:
        turn = asyncio.Event()
        switch._queue.append(turn)
        try:
            await turn.wait()
        except BaseException:  # cancelled while waiting: leave the queue, or pass the turn
            if turn in switch._queue:
                switch._queue.remove(turn)
            elif turn.is_set():
                _next_turn(switch)
            raise
    try:
        return await func(*args)
    finally:
        _next_turn(switch)


def _next_turn(switch):
    if switch._queue:
        switch._queue.pop(0).set()
    elif switch._queue is not None:
        switch._queue = None  # then deleted: its slot is free while no command runs
        del switch._queue  # (base._DEFAULTS)


def _publish_soon(switch):
    if switch._state is not None and not switch._waits_for_discovery():
        asyncio.create_task(switch._publish_state())  # else discovery's state pass sends it
