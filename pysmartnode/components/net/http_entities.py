"""The node's entities as the HTTP API shows them, and their actions. Part of `.net.http`.

An entity is one Home Assistant entity of a component (`discovery_entities()`): its id is the
object id (`name`, or `name_<type>` for a sensor with several types). An action is sent as the
payload of the entity's command topic through `node.mqtt.deliver()`, so it runs exactly the
handler a `<topic>/set` message over MQTT runs.
"""

import asyncio

from pysmartnode.platform import ticks_diff, ticks_ms

# (action, payload on the command topic) per platform; pairs keep their order on MicroPython
_ACTIONS = {
    "switch": (("on", "ON"), ("off", "OFF"), ("toggle", "TOGGLE")),
    "button": (("press", "PRESS"),),
}
_SETTLE_MS = 5000  # how long an action waits to see a switch reach the state it asked for


class HTTPError(Exception):
    """An error the API answers with status and message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Entities:
    """The table of entities, rebuilt when the node's components change."""

    def __init__(self, log):
        self._log = log
        self._table = []  # [id, component, platform, fields]
        self._seen = None  # (count, ids) of node.components when the table was built
        self._reverts = {}  # entity id -> the task that undoes an action with for=
        self._commands = {}  # entity id -> commands seen on its command topic (watched ones)
        self._watching = []  # (topic, callback) of the command topics watched

    def table(self):
        from pysmartnode import node

        key = (len(node.components), [id(c) for c in node.components.values()])
        if key != self._seen:
            table = []
            for comp in node.components.values():
                try:
                    found = comp.discovery_entities()
                except Exception as e:  # a broken component must not break the API
                    self._log.warning("%s: no entities: %s", getattr(comp, "name", "?"), e)
                    continue
                for object_id, platform, fields in found:
                    table.append([object_id, comp, platform, fields])
            self._table = table
            self._seen = key
        return self._table

    def find(self, entity_id):
        for row in self.table():
            if row[0] == entity_id:
                return row
        raise HTTPError(404, "no entity %r (GET /api/v1/entities lists them)" % entity_id)

    def states(self):
        """{id: state} of every entity (for the event stream's change detection)."""
        return {row[0]: state(row) for row in self.table()}

    def describe(self, row):
        object_id, comp, platform, fields = row
        unit = fields.get("unit_of_meas")
        return {
            "id": object_id,
            "component": comp.name,
            "type": platform,
            "name": fields.get("name") or object_id,
            "unit": unit,
            "state": state(row),
            "writable": "cmd_t" in fields,
            "actions": actions(row),
            "category": fields.get("ent_cat"),  # "config", "diagnostic" or None
        }

    def describe_all(self):
        return [self.describe(row) for row in self.table()]

    async def act(self, entity_id, action, value=None, revert_after=None):
        """Runs action on the entity; returns its description afterwards.

        revert_after: seconds after which the node undoes the action (switches only), even if
        the client is gone. Raises HTTPError for an unknown entity or action or a bad value.
        """
        from pysmartnode import node

        row = self.find(entity_id)
        object_id, comp, platform, fields = row
        if "cmd_t" not in fields:
            raise HTTPError(405, "%s is read-only" % entity_id)
        names = actions(row)
        if action not in names:
            raise HTTPError(
                404, "%s has no action %r; it has %s" % (entity_id, action, ", ".join(names))
            )
        if action == "set":
            if not isinstance(value, str) or not value:
                raise HTTPError(400, "set needs a value (a non-empty string)")
            payload = value
        else:
            payload = dict(_ACTIONS[platform])[action]
        before = state(row)
        if revert_after is not None:
            revert_after = _seconds(revert_after)
            if platform != "switch":
                raise HTTPError(400, "for= is for switches (%s is a %s)" % (entity_id, platform))
            self._watch(object_id, fields["cmd_t"])
        old = self._reverts.pop(object_id, None)
        if old is not None:
            old.cancel()  # a new command replaces a pending revert
        if not node.mqtt.deliver(fields["cmd_t"], payload):
            raise HTTPError(409, "%s does not listen to commands now" % entity_id)
        seen = self._commands.get(object_id)  # our own command counted
        if platform == "switch":
            want = {"ON": "ON", "OFF": "OFF"}.get(payload)
            if want is None:
                want = "ON" if before != "ON" else "OFF"
            if not await _settle(row, want):
                raise HTTPError(502, "%s did not turn %s (see the log)" % (entity_id, want))
            # a command that came while the switch settled is later than ours: no revert
            if revert_after is not None and self._commands.get(object_id) == seen:
                back = "OFF" if want == "ON" else "ON"
                self._reverts[object_id] = asyncio.create_task(
                    self._revert(object_id, fields["cmd_t"], back, revert_after)
                )
        result = self.describe(row)
        if object_id in self._reverts and revert_after is not None:
            result["revert_in"] = revert_after
        return result

    async def _revert(self, object_id, topic, payload, seconds):
        from pysmartnode import node

        await asyncio.sleep(seconds)
        if self._reverts.get(object_id) is asyncio.current_task():
            del self._reverts[object_id]
        self._log.info("%s: %s after %s s (for=)", object_id, payload, seconds)
        node.mqtt.deliver(topic, payload)

    def _watch(self, object_id, topic):
        # The latest command wins: any later command on the entity's command topic, over MQTT
        # or the API, cancels its pending revert (the revert itself has left _reverts by then)
        from pysmartnode import node

        if object_id in self._commands:
            return
        self._commands[object_id] = 0

        def heard(topic, msg, retained):
            if retained or msg not in ("ON", "OFF", "TOGGLE"):
                return  # a stale retained command, or one the switch ignores
            self._commands[object_id] += 1
            task = self._reverts.pop(object_id, None)
            if task is not None:
                task.cancel()
                self._log.info("%s: %s cancelled the pending revert", object_id, msg)

        node.mqtt.subscribe(topic, heard, qos=0)
        self._watching.append((topic, heard))

    def stop(self):
        from pysmartnode import node

        for task in self._reverts.values():
            task.cancel()
        self._reverts = {}
        for topic, callback in self._watching:
            node.mqtt.unsubscribe(topic, callback)
        self._watching = []
        self._commands = {}


def shared(log):
    """The node's one Entities table: the HTTP API and the system topics share it, so a new
    command over either cancels a revert (for=) the other scheduled."""
    from pysmartnode import node

    entities = node.parts.get("entities")
    if entities is None:
        entities = node.parts["entities"] = Entities(log)
    return entities


def state(row):
    """The entity's current state: "ON"/"OFF" for switches and binary sensors, the last value
    for a sensor, None when unknown (or for a button)."""
    object_id, comp, platform, fields = row
    if platform in ("switch", "binary_sensor") and hasattr(comp, "state"):
        value = comp.state()
        return None if value is None else ("ON" if value else "OFF")
    if platform == "sensor" and hasattr(comp, "sensor_types"):
        types = comp.sensor_types
        kind = types[0] if len(types) == 1 else object_id[len(comp.name) + 1 :]
        if kind not in types or comp.getTimestamp(kind) is None:
            return None
        # The last value without a reading: ComponentSensor has no synchronous getter yet
        return comp._types[kind][2]
    return None


def actions(row):
    platform, fields = row[2], row[3]
    if "cmd_t" not in fields:
        return []
    known = _ACTIONS.get(platform)
    return [pair[0] for pair in known] if known else ["set"]


def _seconds(value):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise HTTPError(400, "for must be seconds, got %r" % (value,)) from None
    if not 0 < seconds <= 86400:
        raise HTTPError(400, "for must be more than 0 and at most 86400 s, got %r" % (value,))
    return seconds


async def _settle(row, want):
    # The command runs as a task of its own: most switches are done after a few turns of the
    # loop, a relay with a delay takes longer
    started = ticks_ms()
    turns = 0
    while state(row) != want:
        if ticks_diff(ticks_ms(), started) > _SETTLE_MS:
            return False
        turns += 1
        await asyncio.sleep(0 if turns < 20 else 0.01)
    return True
