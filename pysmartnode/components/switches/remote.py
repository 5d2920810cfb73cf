"""A switch of another node, used here as if it were local (a button toggles it, a controller
switches it): commands go to its `/set` topic, its state is mirrored, and it is unavailable
while that node is offline.

`on()`/`off()`/`toggle()` publish `ON`/`OFF` to `<topic>/set` and return True once the remote
node has published the new state on `topic`; no answer within `timeout` is logged as an error
and returns False. While the remote node's availability topic says `offline`, commands are
refused at once (logged) and nothing is sent. Commands also come on `./<name>/set` (`ON`,
`OFF`, `TOGGLE`); the mirrored state is published retained on `./<name>`.

Home Assistant gets a `switch` on the remote node's own topics (state, `/set`, availability),
so it shows the real state and stays usable while this node is down.

Example config (hjson):
    pump: {
        package: .switches.remote
        component: RemoteSwitch
        constructor_args: {
            topic: "home/pumphouse/pump"  # the remote switch's state topic
            availability: null     # optional: its node's availability topic (default: the
                                   # topic's first two levels + /available)
            timeout: 5             # optional, seconds to wait for the remote node's answer
        }
    }
"""

import asyncio

from pysmartnode.utils.component import ComponentBase


class RemoteSwitch(ComponentBase):
    def __init__(self, name, topic, availability=None, timeout=5, discover=True,
                 friendly_name=None):  # fmt: skip
        super().__init__(name, discover, friendly_name)
        levels = topic.split("/") if isinstance(topic, str) else ()
        if len(levels) < 3 or "" in levels or "+" in levels or "#" in levels:
            raise ValueError(
                "topic must be the remote switch's full state topic (home/<node>/<name>), got %r"
                % (topic,)
            )
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError("timeout must be seconds > 0, got %r" % (timeout,))
        self._remote = topic
        self._availability = availability or "%s/%s/available" % (levels[0], levels[1])
        self._timeout = timeout
        self._state = None  # the remote's state as last seen; None: unknown
        self._online = None  # the remote node's availability; None: not seen yet
        self._event = asyncio.Event()  # set on every change (consumers clear it)
        self._answer = asyncio.Event()  # set on every state message from the remote
        self._lock = asyncio.Lock()

    def state(self):
        """True, False or None (not seen yet)."""
        return self._state

    def online(self):
        """True / False as the remote node's availability says, None before it said anything."""
        return self._online

    def topic(self):
        """The mirrored state topic (device form); commands go to topic() + "/set"."""
        return self._topic

    def getStateChangeEvent(self):
        return self._event

    async def on(self):
        """Turns the remote switch on; True once its node has confirmed it."""
        async with self._lock:
            return await self._send(True)

    async def off(self):
        async with self._lock:
            return await self._send(False)

    async def toggle(self):
        async with self._lock:
            return await self._send(not self._state)

    async def _send(self, state):
        word = "ON" if state else "OFF"
        if self._online is False:
            self._log.error("not turned %s: %s is offline", word, self._availability)
            return False
        if self._mqtt is None or not self._mqtt.isconnected():
            self._log.error("not turned %s: no broker", word)
            return False
        self._answer.clear()
        await self._mqtt.publish(self._remote + "/set", word, False, 1)
        try:
            while self._state != state:
                await asyncio.wait_for(self._answer.wait(), self._timeout)
                self._answer.clear()
        except asyncio.TimeoutError:
            self._log.error("no answer from %s within %s s", self._remote, self._timeout)
            return False
        return True

    def _start(self):
        self._subscribe(self._remote, self._on_remote)
        self._subscribe(self._availability, self._on_availability)
        self._subscribe(self._topic + "/set", self._on_command)

    def _on_remote(self, topic, msg, retained):
        if msg != "ON" and msg != "OFF":
            self._log.warning("ignored state %.40r from %s: want ON or OFF", msg, self._remote)
            return
        state = msg == "ON"
        changed = state != self._state
        self._state = state
        self._answer.set()
        if changed:
            self._event.set()
            asyncio.create_task(self._publish_state())

    def _on_availability(self, topic, msg, retained):
        online = msg == "online"
        if online != self._online:
            if not online:
                self._log.warning("%s is offline: commands are refused", self._remote)
            self._online = online

    def _on_command(self, topic, msg, retained):
        if retained:
            return  # a stale retained command must not switch the remote at every start
        if msg == "ON":
            asyncio.create_task(self.on())
        elif msg == "OFF":
            asyncio.create_task(self.off())
        elif msg == "TOGGLE":
            asyncio.create_task(self.toggle())
        else:
            self._log.warning("ignored command %.40r: want ON, OFF or TOGGLE", msg)

    async def _publish_state(self):
        if self._state is None:
            return
        try:
            await self._publish(self._topic, "ON" if self._state else "OFF", True, 1)
        except Exception as e:
            self._log.error("publishing the state failed: %s", e)

    def discovery_entities(self):
        fields = {
            "name": self._entity_name(),
            "stat_t": self._remote,
            "cmd_t": self._remote + "/set",
            "avty_t": self._availability,
        }
        return [(self.name, "switch", fields)]
