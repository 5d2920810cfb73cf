"""A push button on a GPIO pin: short, long and double presses, each mapped to an action.

The pin is polled (every 10 ms) and debounced: a level counts once it has held for
`debounce_ms`. A press released before `long_ms` is a short press, or the first half of a double
press if a second one starts within `double_ms` of the release (so a short press is reported
`double_ms` after its release; `double_ms: 0` reports it at once and never a double). Held for
`long_ms`, it is a long press as soon as that time is reached.

Each press is published as a Home Assistant `event` (`{"event_type": "short"}` on `./<name>`,
not retained; types `short`, `long`, `double`) for automations, and runs the action given for
it: a switch (`{"ref": "<key>"}`) is toggled, a button component is pressed. Actions run on the
node itself, with or without a broker; a press while the broker is away is not published
later (an automation would run at the wrong time).

Example config (hjson):
    wall_button: {
        package: .machine.button
        component: Button
        constructor_args: {
            pin: 0                 # GPIO number or board pin name of the button
            active_low: true       # optional: true (default) when pressed pulls the pin to 0 V
            pull: "up"             # optional: "up" (default), "down" or null (external resistor)
            debounce_ms: 30        # optional, ms a level must hold to count
            long_ms: 800           # optional, ms held for a long press
            double_ms: 400         # optional, ms between two presses of a double (0: no doubles)
            short: null            # optional: {ref: "<switch or button key>"}, toggled / pressed
            long: null             # optional: the same, for a long press
            double: null           # optional: the same, for a double press
        }
    }
"""

import asyncio

from pysmartnode.platform import const, hardware, ticks_diff, ticks_ms
from pysmartnode.utils.component import ComponentBase

_POLL_MS = const(10)
_KINDS = ("short", "long", "double")
_EVENT = '{"event_type": "%s"}'


class Button(ComponentBase):
    def __init__(self, name, pin, active_low=True, pull="up", debounce_ms=30, long_ms=800,
                 double_ms=400, short=None, long=None, double=None, discover=True,
                 friendly_name=None):  # fmt: skip
        super().__init__(name, discover, friendly_name)
        for key, value in (("debounce_ms", debounce_ms), ("long_ms", long_ms),
                           ("double_ms", double_ms)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("%s must be whole milliseconds >= 0, got %r" % (key, value))
        if long_ms <= debounce_ms:
            raise ValueError("long_ms (%d) must be longer than debounce_ms" % long_ms)
        if not isinstance(active_low, bool):
            raise ValueError("active_low must be true or false, got %r" % (active_low,))
        self._actions = (short, long, double)
        for kind, action in zip(_KINDS, self._actions):
            if (
                action is not None
                and not hasattr(action, "toggle")
                and not hasattr(action, "press")
            ):
                raise ValueError(
                    '%s must be a switch or a button, as {"ref": "<key>"}, got %r' % (kind, action)
                )
        self._pressed_level = 0 if active_low else 1
        self._pin = hardware.pin(pin, pull=pull)
        self._debounce_ms = debounce_ms
        self._long_ms = long_ms
        self._double_ms = double_ms
        self._topic = "./" + name
        self.presses = {"short": 0, "long": 0, "double": 0}
        self._action = None  # the task of the last action

    def _start(self):
        self._spawn(self._watch)

    async def _watch(self):
        raw = pressed = False
        changed = down = up = ticks_ms()
        clicks = 0  # short presses waiting to be told apart from a double
        long_done = False
        while True:
            await asyncio.sleep(_POLL_MS / 1000)
            now = ticks_ms()
            level = self._pin.value() == self._pressed_level
            if level != raw:
                raw, changed = level, now
            elif raw != pressed and ticks_diff(now, changed) >= self._debounce_ms:
                pressed = raw
                if pressed:
                    down, long_done = now, False
                elif not long_done:
                    clicks += 1
                    up = now
                    if clicks == 2:
                        clicks = 0
                        self._fire(_KINDS[2])
            if pressed and not long_done and ticks_diff(now, down) >= self._long_ms:
                long_done, clicks = True, 0
                self._fire(_KINDS[1])
            if clicks == 1 and not pressed and ticks_diff(now, up) >= self._double_ms:  # no 2nd
                clicks = 0
                self._fire(_KINDS[0])

    def _fire(self, kind):
        self.presses[kind] += 1
        self._log.info("%s press", kind)
        if self._mqtt is not None and self._mqtt.isconnected():  # a late event would mislead
            asyncio.create_task(self._send(kind))  # the action never waits for the broker
        action = self._actions[_KINDS.index(kind)]
        if action is not None:  # in its own task: a remote switch may take seconds to answer
            self._action = asyncio.create_task(self._act(kind, action))

    async def _act(self, kind, action):
        try:
            await (action.toggle() if hasattr(action, "toggle") else action.press())
        except Exception as e:  # the action's component failed: the button goes on
            self._log.error("%s press action failed: %s: %s", kind, type(e).__name__, e)

    def stop(self):
        if self._action is not None:
            self._action.cancel()
            self._action = None
        super().stop()

    async def _send(self, kind):
        try:
            await self._publish(self._topic, _EVENT % kind)
        except Exception as e:
            self._log.error("publishing the %s press failed: %s", kind, e)

    def discovery_entities(self):
        fields = {
            "name": self._entity_name(),
            "stat_t": self._topic,
            "evt_typ": list(_KINDS),
            "dev_cla": "button",
        }
        return [(self.name, "event", fields)]
