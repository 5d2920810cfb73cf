"""System topics (FmPyIOT's): sysinfo on request, run-time parameters, reverse topics, actions.

Topics (device form, `./x` = `<home>/<id>/x`):
- `./sysinfo/set` (any payload) -> `./sysinfo`: uname, platform, ip, Wi-Fi signal, free and
  allocated heap, filesystem usage.
- `./params` (retained): every parameter, `{"<component>.<key>": value}`; `./params/set` with
  such an object (one or several keys) changes them, each validated; a bad key or value is
  logged and changes nothing of that key. Also `GET`/`PATCH /api/v1/params` with the HTTP
  component. Each parameter is a Home Assistant `number`, `select` or `text` (category config).
- `<sensor topic>/get` (any payload): the sensor reads now and publishes (reverse topic).
- `./actions/set` (any payload) -> `./actions`: `{"<entity id>": ["on", "off", ...]}`.
- `./actions/run` with `{"id": "pump", "action": "on", "for": 30}` (`for`, `value` optional)
  runs an action as `POST /api/v1/entities/<id>/<action>` does, `for` reverting it on the node;
  the answer goes to `./actions/result`: `{"id", "action", "ok": true, "state"}` or
  `{"id", "action", "ok": false, "error"}`.

Parameters: every sensor has `interval_reading` and `interval_publish` (set through its own
`./<name>/interval/set` handler, kept retained by the broker as before). A component declares
more with `parameters()`, returning a list of dicts `{"key", "type": "number"|"select"|"text",
"min", "max", "step", "unit", "options"}`, plus `get_parameter(key)` and `set_parameter(key,
value)` (raises ValueError for a bad value); those are saved in `params.json` beside the config
and set again at the next start.

Example config (hjson):
    system: {
        package: ".machine.system"
        component: "System"
    }
"""

import asyncio

from pysmartnode.utils.component.base import ComponentBase

_INTERVALS = ("interval_reading", "interval_publish")


class System(ComponentBase):
    """The system topics. No arguments beyond the name (and `discover`)."""

    def __init__(self, name, discover=True):
        super().__init__(name, discover)
        self._gets = []  # sensors whose ./<name>/get we subscribed
        self._restored = False

    def _start(self):
        self._subscribe("./sysinfo/set", self._on_sysinfo, qos=0)
        self._subscribe("./actions/set", self._on_actions, qos=0)
        self._subscribe("./actions/run", self._on_run, parse_json=True)
        self._subscribe("./params/set", self._on_params, parse_json=True)
        self._mqtt.on_connect(self._on_connect)

    # ------------------------------------------------------------------ sysinfo and actions

    def sysinfo(self):
        """The node's system facts as a dict (null where the port cannot tell)."""
        import os
        import sys

        from pysmartnode import node
        from pysmartnode.platform import PLATFORM, collect, mem_alloc, mem_free

        collect()
        info = {"platform": PLATFORM, "implementation": sys.implementation.name,
                "version": sys.version, "ip": None, "rssi": None, "mem_free": mem_free(),
                "mem_alloc": mem_alloc(), "statvfs": None}  # fmt: skip
        try:
            info["uname"] = list(os.uname())
        except (AttributeError, OSError):
            info["uname"] = None
        if node.link is not None:
            info["ip"] = node.link.ip()
            try:
                info["rssi"] = node.link.rssi()
            except Exception:  # a link without a signal figure
                pass
        try:
            info["statvfs"] = list(os.statvfs("/"))
        except (AttributeError, OSError):
            pass
        return info

    def _on_sysinfo(self, topic, msg, retained):
        if not retained:
            asyncio.create_task(self._publish("./sysinfo", self.sysinfo(), qos=1))

    def actions(self):
        """{entity id: [actions]} of every entity that takes commands."""
        from pysmartnode import node

        out = {}
        for comp in node.components.values():
            for object_id, platform, fields in _entities(comp):
                if "cmd_t" in fields and comp is not self:
                    if platform == "switch":
                        out[object_id] = ["on", "off", "toggle"]
                    elif platform == "button":
                        out[object_id] = ["press"]
                    else:
                        out[object_id] = ["set"]
        return out

    def _on_actions(self, topic, msg, retained):
        if not retained:
            asyncio.create_task(self._publish("./actions", self.actions(), qos=1))

    def _on_run(self, topic, msg, retained):
        if not retained:  # a retained command must not run again at every start
            asyncio.create_task(self._run(msg))

    async def _run(self, msg):
        from pysmartnode.components.net.http_entities import HTTPError, shared

        if not isinstance(msg, dict):
            msg = {}
        answer = {"id": msg.get("id"), "action": msg.get("action")}
        try:
            if not isinstance(answer["id"], str) or not isinstance(answer["action"], str):
                raise HTTPError(400, 'want {"id": "<entity>", "action": "<action>"}')
            done = await shared(self._log).act(
                answer["id"], answer["action"], msg.get("value"), msg.get("for")
            )
            answer["ok"] = True
            answer["state"] = done["state"]
        except HTTPError as e:
            self._log.warning("action refused: %s", e.message)
            answer["ok"] = False
            answer["error"] = e.message
        await self._publish("./actions/result", answer, qos=1)

    # ------------------------------------------------------------------ reverse topics

    def _reverse_topics(self):
        # On every connect: by then the registry has built every component
        from pysmartnode import node

        for comp in node.components.values():
            if hasattr(comp, "getValue") and hasattr(comp, "sensor_types"):
                if comp not in self._gets:
                    self._gets.append(comp)
                    self._subscribe("./%s/get" % comp.name, self._on_get, qos=0)

    def _on_get(self, topic, msg, retained):
        if retained:
            return
        name = topic[2:-4]
        for comp in self._gets:
            if comp.name == name:
                asyncio.create_task(comp.getValue(comp.sensor_types[0], True, None, 0))

    # ------------------------------------------------------------------ parameters

    def declared(self):
        """[(full key, component, key, spec)] of every parameter of the node."""
        from pysmartnode import node

        out = []
        for comp in node.components.values():
            if hasattr(comp, "set_intervals") and hasattr(comp, "intervals"):
                for key in _INTERVALS:
                    spec = {"key": key, "type": "number", "min": -1, "max": 86400, "step": 1,
                            "unit": "s"}  # fmt: skip
                    out.append((comp.name + "." + key, comp, key, spec))
            if hasattr(comp, "parameters"):
                try:
                    for spec in comp.parameters():
                        out.append((comp.name + "." + spec["key"], comp, spec["key"], spec))
                except Exception as e:  # a broken declaration must not hide the others
                    self._log.error("%s: parameters() failed: %s", comp.name, e)
        return out

    def params(self):
        """{"<component>.<key>": value} of every parameter."""
        out = {}
        for full, comp, key, _spec in self.declared():
            out[full] = _get(comp, key)
        return out

    def apply(self, changes, save=True):
        """Sets the parameters in changes ({full key: value}); returns {full key: error} of those
        that were refused (unknown key, wrong type, out of range). The others are set, saved
        and published."""
        from pysmartnode.components.machine.system_params import apply

        return apply(self, changes, save)

    def _on_params(self, topic, msg, retained):
        if not retained:
            self.apply(msg)

    async def _on_connect(self, reason):
        self._reverse_topics()
        if not self._restored:
            from pysmartnode.components.machine.system_params import restore

            self._restored = True
            restore(self)
        await self._publish("./params", self.params(), True, 1)

    def discovery_entities(self):
        entities = []
        for full, comp, key, spec in self.declared():
            object_id = self.name + "_" + full.replace(".", "_").replace("-", "_")
            kind = spec.get("type", "number")
            fields = {"name": "%s %s" % (comp.name, key.replace("_", " ")),
                      "cmd_t": "./params/set", "stat_t": "./params",
                      "val_tpl": "{{ value_json['%s'] }}" % full,
                      "ent_cat": "config"}  # fmt: skip
            if kind == "number":
                fields["cmd_tpl"] = '{"%s": {{ value }}}' % full
                for short, long in (("min", "min"), ("max", "max"), ("step", "step")):
                    if spec.get(long) is not None:
                        fields[short] = spec[long]
                if spec.get("unit"):
                    fields["unit_of_meas"] = spec["unit"]
            else:
                fields["cmd_tpl"] = '{"%s": "{{ value }}"}' % full
                if kind == "select":
                    fields["ops"] = list(spec.get("options") or [])
            entities.append((object_id, kind, fields))
        return entities


def _entities(comp):
    try:
        return comp.discovery_entities()
    except Exception:  # a broken component lists nothing here; discovery logs it
        return []


def _get(comp, key):
    if key == "interval_reading":
        return comp.intervals[0]
    if key == "interval_publish":
        return comp.intervals[1]
    return comp.get_parameter(key)
