"""ComponentBase: identity, logger, supervised loops, subscriptions and discovery of a component.

See docs/components.md. Every other base class (sensor, switch, button, binary sensor) builds on
this one; a component that fits none of them subclasses it directly.
"""

import asyncio
import sys

from pysmartnode import logging
from pysmartnode.platform import const, ticks_diff, ticks_ms
from pysmartnode.utils import forget

_BACKOFF_MAX = const(60)  # seconds between restarts of a loop that keeps failing
_HEALTHY_MS = const(30000)  # a loop that ran this long before failing starts again at once-ish

# The defaults of rarely set attributes of the base classes, " name=value" (N None, F False,
# T True, E (), 1, R "restore"): __getattr__ answers them, so an instance holds only what
# differs and no class holds a slot per default (a class dict's table grows in steps of 96-128 B). An
# instance's table grows too (2, 4, 6, 8, 10, 12, 17 slots of 16 B) and never shrinks, so
# attributes that are there only for a while (a sensor's run, reading, publication) are
# deleted when done, not set back to their default: the table holds what is there at once.
# Set to None first: a deleted slot keeps its value, which the collector then still sees
_DEFAULTS = (
    " discover=T friendly_name=N _tasks=E _subscriptions=E"  # ComponentBase
    " _busy=N _next_read=N _next_publish=N _backoff=1"  # SensorBase
    " _precision=N _offset=N _filter_spec=N _gate=N _retain=F _fresh=F _failing=F _event=N"
    " _publishing=N _again=F _in_read=N _chains=N"  # ComponentSensor
    " _max_on_time=N _offline_off=N _state=N _timer=N _offline_timer=N _queue=N _restore=R"
)  # (the last line: ComponentSwitch)


def check_name(name):
    """Raises ValueError unless name can be a topic level and a Home Assistant id."""
    if not isinstance(name, str) or not 0 < len(name) <= 64:
        raise ValueError("component name must be a string of 1 to 64 characters, got %r" % (name,))
    for c in name:
        if not (c.isalpha() or c.isdigit() or c == "_" or c == "-") or ord(c) > 127:
            raise ValueError(
                "component name %r: use letters, digits, _ and - only "
                "(it becomes MQTT topics and Home Assistant ids)" % name
            )


class ComponentBase:
    """The base of every component.

    The config key (`name`) is the component's identity: its topics (`./<name>`), unique ids and
    entity ids derive from it, never from load order. The constructor only builds (no I/O, no
    tasks); `start()` subscribes and starts the loops, `stop()` ends all of them.

    Args:
        name: the config key: letters, digits, `_`, `-` (at most 64).
        discover: announce the entities to Home Assistant (default True).
        friendly_name: the entity name Home Assistant shows (default: name, `_` as spaces).

    Raises:
        ValueError: name is not a valid identity.
    """

    def __init__(self, name, discover=True, friendly_name=None):
        check_name(name)
        self.name = name
        if not discover:
            self.discover = False
        if friendly_name is not None:
            self.friendly_name = friendly_name

    def __getattr__(self, attr):
        # Made when asked for, not kept per instance: the component's logger (named by its
        # config key; logging keeps one per name), its device topic `./<name>`, the node's MQTT
        # handle, a sensor's default intervals and the defaults of _DEFAULTS. A subclass may
        # still set any of them as an attribute of its own
        if attr == "_log":
            return logging.getLogger(self.name)
        if attr == "_topic":
            return "./" + self.name
        if attr == "_mqtt":
            from pysmartnode import node

            return node.mqtt
        if attr == "_interval_reading" or attr == "_interval_publish":
            from pysmartnode import config  # sensor_setup.init sets those that differ

            if attr == "_interval_reading":
                return config.INTERVAL_SENSOR_READ
            return max(config.INTERVAL_SENSOR_PUBLISH, self._interval_reading)
        at = _DEFAULTS.find(" %s=" % attr)
        if at >= 0:
            return (None, False, True, (), 1, "restore")[
                "NFTE1R".find(_DEFAULTS[at + len(attr) + 2])
            ]
        # A rarely used method (or, marked *, property) of the class: `_rare` names the module
        # that holds it as a function of the component, loaded for the call and dropped after.
        # Then ComponentBase's own (base_api.py): _subscribe and the defaults of the hooks
        # discovery_entities and _publish_state (written here: a module-level name would
        # grow this module's full table of 12 slots to 17)
        base = "base_api _subscribe discovery_entities _publish_state "
        for rare in (getattr(type(self), "_rare", ""), base):
            method = (" %s " % attr) in rare
            if method or (" *%s " % attr) in rare:
                break
        else:
            raise AttributeError(attr)
        leaf = rare[: rare.find(" ")]
        full = "pysmartnode.utils.component." + leaf
        __import__(full)
        func = getattr(sys.modules[full], attr)
        if not method:
            try:
                return func(self)
            finally:
                forget(full)

        def bound(*args, **kwargs):
            try:
                return func(self, *args, **kwargs)
            finally:
                forget(full)

        return bound

    # ------------------------------------------------------------------ life cycle

    def start(self):
        """Subscribes and starts the component's loops (the registry calls it once, after
        building; `_mqtt` is node.mqtt). Subclasses extend `_start()`, not this. (Here, not in
        base_api.py: loading a module at each component's start grew sys.modules' table during
        the build, for good.)"""
        self._start()

    def _start(self):
        """Hook: subscribe (`_subscribe`) and start loops (`_spawn`) here."""

    def stop(self):
        """Cancels every task the component started and drops its subscriptions."""
        for task in self._tasks:
            task.cancel()
        self._tasks = ()
        if self._mqtt is not None:
            for topic, callback in self._subscriptions:
                self._mqtt.unsubscribe(topic, callback)
        self._subscriptions = ()

    # ------------------------------------------------------------------ helpers for subclasses

    def _spawn(self, func, *args):
        """Runs `await func(*args)` as a supervised task: if it raises, the error is logged
        (over MQTT) and it starts again after 1, 2, 4 ... 60 s; if it returns, it is done.
        The task is cancelled by stop(). Returns the task."""
        task = asyncio.create_task(self._supervise(func, args))
        if not self._tasks:
            self._tasks = []
        self._tasks.append(task)
        return task

    async def _supervise(self, func, args):
        backoff = 1
        while True:
            started = ticks_ms()
            try:
                await func(*args)
                return
            except Exception as e:  # CancelledError is not an Exception: stop() still works
                if ticks_diff(ticks_ms(), started) > _HEALTHY_MS:
                    backoff = 1
                self._log.error(
                    "%s failed: %s: %s; restarting in %d s",
                    getattr(func, "__name__", "loop"),
                    type(e).__name__,
                    e,
                    backoff,
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX)

    async def _publish(self, topic, msg, retain=False, qos=1):
        """Publishes once Home Assistant has the discovery config (config before state).

        Returns what MQTTHandle.publish returns (True once sent or acknowledged)."""
        from pysmartnode import node

        gate = node.discovery
        if gate is not None and self.discover:
            await gate.wait()
        if self._mqtt is None:
            return False
        return await self._mqtt.publish(topic, msg, retain, qos)

    def _waits_for_discovery(self):
        """True while this component's state must wait for the discovery config: discovery's
        state pass after it publishes the state then, so no task needs to wait for it (at a
        connect those tasks would all publish at the same moment: the node's heap peak)."""
        from pysmartnode import node

        gate = node.discovery
        return gate is not None and self.discover and not gate.ready()

    def _entity_name(self, part=None):
        # HA shows "<device name> <entity name>"; the entity part only, never the device's
        base = self.friendly_name
        if not base:
            base = self.name.replace("_", " ")
            base = base[:1].upper() + base[1:]
        if part:
            return "%s %s" % (base, part.replace("_", " "))
        return base
