"""Component template: the plain base, for anything that is not one sensor, switch or button.

Copy this file beside your components.py and rename the class. It shows the four things a
component does: subscribe to a command topic, run a supervised loop, publish, and declare its
Home Assistant entities. It runs as it is: a counter that goes up every `interval` seconds,
published on `<home>/<device>/<name>`; the command `reset` on `.../<name>/set` sets it to 0.

Example config (hjson):
    ticker: {
        package: "component_template"  # this file's name, without .py
        component: MyComponent
        constructor_args: {
            interval: 5               # optional, seconds between counts
        }
    }
"""

import asyncio

from pysmartnode.utils.component import ComponentBase


class MyComponent(ComponentBase):
    def __init__(self, name, interval=5, **kwargs):
        super().__init__(name, **kwargs)  # kwargs: discover, friendly_name
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval <= 0:
            raise ValueError("interval must be seconds > 0, got %r" % (interval,))
        self._interval = interval
        self._count = 0
        self._topic = "./" + name  # "./x" is <home>/<device id>/x

    def _start(self):
        # Called once the node's MQTT handle exists: subscribe and start loops here, never in
        # __init__. Both are undone by stop().
        self._subscribe(self._topic + "/set", self._on_command)
        self._spawn(self._count_loop)  # supervised: a raise is logged, the loop restarts

    def _on_command(self, topic, msg, retained):
        # Runs in the MQTT handle's task: keep it short, start a task for anything slow.
        if msg == "reset":
            self._count = 0
            asyncio.create_task(self._publish_state())
        else:
            self._log.warning("unknown command %.40r: want reset", msg)

    async def _count_loop(self):
        while True:
            await asyncio.sleep(self._interval)
            self._count += 1
            await self._publish_state()

    async def _publish_state(self):
        # Also called by the node after every (re)connect, once discovery is out.
        await self._publish(self._topic, str(self._count), True)

    def discovery_entities(self):
        # What Home Assistant shows: (object id, platform, discovery fields in short form).
        return [(self.name, "sensor", {"name": self._entity_name(), "stat_t": self._topic,
                                       "stat_cla": "total_increasing"})]  # fmt: skip
