"""A push button on a GPIO pin: short, long and double presses, each mapped to an action.

A level counts once it has held for `debounce_ms`. Where the pin has interrupts (`Pin.irq` on
a board, and MicroPython's asyncio has ThreadSafeFlag), an edge interrupt wakes the button: the
handler only sets a flag (it allocates nothing, as a hard IRQ must), and the button's task reads
the pin once the edges have been quiet for `debounce_ms`, so a bouncing contact is one press and
the pin is not read between presses. Elsewhere (or with `irq: false`) the pin is polled every
10 ms; both ways tell presses apart alike.

A press released before `long_ms` is a short press, or the first half of a double press if a
second one starts within `double_ms` of the release (so a short press is reported `double_ms`
after its release; `double_ms: 0` reports it at once and never a double). Held for `long_ms`,
it is a long press as soon as that time is reached.

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
            irq: null              # optional: true/false: edge interrupt or polling; null
                                   # (default): the interrupt where the port has one
        }
    }
"""

import asyncio

from pysmartnode.platform import const, hardware, irq_flag, ticks_diff, ticks_ms
from pysmartnode.utils.component import ComponentBase

_POLL_MS = const(10)
_KINDS = ("short", "long", "double")
_EVENT = '{"event_type": "%s"}'


class Button(ComponentBase):
    def __init__(self, name, pin, active_low=True, pull="up", debounce_ms=30, long_ms=800,
                 double_ms=400, short=None, long=None, double=None, irq=None, discover=True,
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
        if irq not in (None, True, False):
            raise ValueError("irq must be true, false or null (where available), got %r" % (irq,))
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
        self._flag = None  # set by the edge interrupt; None: the pin is polled
        if irq is not False and hasattr(self._pin, "irq"):
            self._flag = irq_flag()
        if irq and self._flag is None:
            raise ValueError(
                "irq: true, but pin %r has no interrupts on this port: leave irq out or set it "
                "false to poll the pin" % (pin,)
            )
        self._debounce_ms = debounce_ms
        self._long_ms = long_ms
        self._double_ms = double_ms
        self.presses = {"short": 0, "long": 0, "double": 0}
        self._action = None  # the task of the last action
        self._pressed = self._long_done = False
        self._down = self._up = 0  # ticks_ms of the last debounced press and release
        self._clicks = 0  # short presses waiting to be told apart from a double

    def _start(self):
        self._pressed = self._long_done = False
        self._clicks = 0
        if self._flag is None:
            self._spawn(self._watch)
            return
        trigger = self._pin.IRQ_FALLING | self._pin.IRQ_RISING
        try:
            self._pin.irq(handler=self._edge, trigger=trigger, hard=True)
        except TypeError:  # a port without hard interrupts: a soft one sets the flag as well
            self._pin.irq(handler=self._edge, trigger=trigger)
        self._spawn(self._watch_irq)

    def _edge(self, pin):
        self._flag.set()  # the interrupt handler: nothing else, no allocation

    async def _watch(self):
        raw = False
        changed = ticks_ms()
        while True:
            await asyncio.sleep(_POLL_MS / 1000)
            now = ticks_ms()
            level = self._pin.value() == self._pressed_level
            if level != raw:
                raw, changed = level, now
            elif raw != self._pressed and ticks_diff(now, changed) >= self._debounce_ms:
                self._settled(raw, now)
            self._due(now)

    async def _watch_irq(self):
        edge = True  # read once at start: a button held while the node starts counts too
        while True:
            if edge:  # wait for the bouncing to end, then read the level once
                while await self._edge_within(self._debounce_ms):
                    pass
                level = self._pin.value() == self._pressed_level
                if level != self._pressed:
                    self._settled(level, ticks_ms())
            wait = self._due(ticks_ms())
            if wait < 0:  # nothing pending: sleep until an edge
                await self._flag.wait()
                edge = True
            else:
                edge = await self._edge_within(wait)

    async def _edge_within(self, ms):
        if ms <= 0:
            return False
        try:
            await asyncio.wait_for(self._flag.wait(), ms / 1000)
            return True
        except asyncio.TimeoutError:
            return False

    def _settled(self, pressed, now):
        # a debounced change of level: a press starts, or a release ends a short press
        self._pressed = pressed
        if pressed:
            self._down, self._long_done = now, False
        elif not self._long_done:
            self._clicks += 1
            self._up = now
            if self._clicks == 2:
                self._clicks = 0
                self._fire(_KINDS[2])

    def _due(self, now):
        # fires a long or a short press whose time has come; ms until the next one, or -1
        if self._pressed and not self._long_done:
            left = self._long_ms - ticks_diff(now, self._down)
            if left > 0:
                return left
            self._long_done, self._clicks = True, 0
            self._fire(_KINDS[1])
        if self._clicks == 1 and not self._pressed:  # no second press came
            left = self._double_ms - ticks_diff(now, self._up)
            if left > 0:
                return left
            self._clicks = 0
            self._fire(_KINDS[0])
        return -1

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
        if self._flag is not None:
            self._pin.irq(handler=None)
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
