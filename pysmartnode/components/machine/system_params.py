"""Setting the system component's parameters: each value checked against its declaration, a
sensor's two intervals set together, the rest saved in `params.json` beside the config and set
again at the next start. Imported on the first change or restore (system.py: the topics).
"""

import asyncio
import json

from pysmartnode.components.machine.system import _INTERVALS, _get

_FILE = "params.json"


def apply(system, changes, save=True):
    """System.apply(): sets changes ({full key: value}) and returns {full key: error}."""
    if not isinstance(changes, dict):
        return {"": "want a JSON object of parameters"}
    table = {}
    for full, comp, key, spec in system.declared():
        table[full] = (comp, key, spec)
    errors = {}
    done = False
    pairs = []  # [component, reading, publish, keys]: a sensor's intervals are set together
    for full, value in changes.items():
        entry = table.get(full)
        if entry is None:
            errors[full] = "unknown parameter (./params lists them)"
            continue
        comp, key, spec = entry
        try:
            value = _check(spec, value)
            if key in _INTERVALS:
                pair = _pair(pairs, comp)
                pair[1 if key == "interval_reading" else 2] = value
                pair[3].append(full)
            else:
                comp.set_parameter(key, value)
                done = True
        except ValueError as e:
            errors[full] = str(e)
    for comp, reading, publish, keys in pairs:
        try:
            _set_intervals(comp, reading, publish)
            done = True
        except ValueError as e:
            for full in keys:
                errors[full] = str(e)
    for full, why in errors.items():
        system._log.warning("parameter %s refused: %s", full, why)
    if done:
        if save:
            _save(system)
        asyncio.create_task(system._publish("./params", system.params(), True, 1))
    return errors


def restore(system):
    """Sets the parameters params.json holds (once, at the first connect)."""
    try:
        with open(_path()) as f:
            values = json.load(f)
    except (OSError, ValueError):
        return
    errors = apply(system, values, save=False)
    if errors:
        system._log.warning("saved parameters not restored: %s", ", ".join(errors))


def _path():
    from pysmartnode import node

    return node.parts.get("folder", "") + _FILE


def _save(system):
    values = {}
    for full, comp, key, _spec in system.declared():
        if key not in _INTERVALS:  # the broker keeps intervals (./<name>/interval)
            values[full] = _get(comp, key)
    try:
        with open(_path(), "w") as f:
            json.dump(values, f)
    except OSError as e:
        system._log.error("cannot save parameters: %s", e)


def _pair(pairs, comp):
    for pair in pairs:
        if pair[0] is comp:
            return pair
    pair = [comp, comp.intervals[0], comp.intervals[1], []]
    pairs.append(pair)
    return pair


def _set_intervals(comp, reading, publish):
    # The sensor's own handler: it validates, applies and keeps the change retained
    from pysmartnode import node
    from pysmartnode.utils.component.sensor_setup import check_intervals

    check_intervals(reading, publish)
    payload = json.dumps({"reading": reading, "publish": publish})
    if not node.mqtt.deliver("./%s/interval/set" % comp.name, payload):
        comp.set_intervals(reading, publish)  # not subscribed (yet): set it directly


def _check(spec, value):
    kind = spec.get("type", "number")
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("want a number, got %s" % type(value).__name__)
        if spec.get("min") is not None and value < spec["min"]:
            raise ValueError("%r is below the minimum %r" % (value, spec["min"]))
        if spec.get("max") is not None and value > spec["max"]:
            raise ValueError("%r is above the maximum %r" % (value, spec["max"]))
    elif kind == "select":
        if value not in (spec.get("options") or []):
            raise ValueError(
                "want one of %s, got %r" % (", ".join(spec.get("options") or []), value)
            )
    elif not isinstance(value, str) or len(value) > 255:
        raise ValueError("want text of at most 255 characters")
    return value
