"""Sensor filters, loaded only by a sensor that has some. See docs/components.md.

Value filters run on every reading of a type, in the order given: average, median, linear.
Publish filters decide whether a reading is published: delta (only when a value moved by more
than x since the last publication; max_silence s after which it publishes anyway) and throttle
(at most one publication per s). With a publish filter, every reading is a candidate.
"""

from pysmartnode.platform import ticks_diff, ticks_ms

_VALUE_FILTERS = ("average", "median", "linear")
_PUBLISH_FILTERS = ("delta", "max_silence", "throttle")


def _specs(spec, sensor_type):
    if isinstance(spec, dict):
        spec = spec.get(sensor_type) or []
    if not isinstance(spec, (list, tuple)):
        raise ValueError(
            "filters must be a list of one-key dicts (or {type: list}), got %r" % (spec,)
        )
    for item in spec:
        if not isinstance(item, dict) or not item:
            raise ValueError('a filter is a dict like {"median": 5}, got %r' % (item,))
        for key in item:
            if key not in _VALUE_FILTERS and key not in _PUBLISH_FILTERS:
                raise ValueError(
                    "unknown filter %r: use average, median, linear, delta (+ max_silence), "
                    "throttle" % key
                )
    return spec


def _window(value, key):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise ValueError("filter %s needs a window of 1 to 64 readings, got %r" % (key, value))
    return value


def _seconds(value, key):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError("filter %s needs seconds > 0, got %r" % (key, value))
    return value


class Chain:
    """The value filters of one sensor type."""

    def __init__(self, steps):
        self._steps = steps  # [kind, parameter, window list]

    def feed(self, value):
        for step in self._steps:
            kind = step[0]
            if kind == "linear":
                value = step[1][0] * value + step[1][1]
                continue
            window = step[2]
            window.append(value)
            if len(window) > step[1]:
                window.pop(0)
            if kind == "average":
                value = sum(window) / len(window)
            else:
                ordered = sorted(window)
                middle = len(ordered) // 2
                if len(ordered) % 2:
                    value = ordered[middle]
                else:
                    value = (ordered[middle - 1] + ordered[middle]) / 2
        return value


def chain(spec, sensor_type):
    """The value filters for sensor_type from a sensor's `filters` option, or None."""
    steps = []
    for item in _specs(spec, sensor_type):
        for key, value in item.items():
            if key == "linear":
                if (not isinstance(value, (list, tuple)) or len(value) != 2
                        or [v for v in value if isinstance(v, bool) or not isinstance(v, (int, float))]):  # fmt: skip
                    raise ValueError("filter linear needs [a, b] (a*x + b), got %r" % (value,))
                steps.append(["linear", (value[0], value[1]), None])
            elif key in ("average", "median"):
                steps.append([key, _window(value, key), []])
    return Chain(steps) if steps else None


class Gate:
    """The publish filters of a sensor (for all its types together)."""

    def __init__(self, delta, max_silence, throttle):
        self.delta = delta
        self.max_silence = max_silence
        self.throttle = throttle
        self._sent = {}  # type -> value last published
        self._sent_at = None  # ticks_ms of the last publication

    def passes(self, records):
        """True if the latest readings should be published now."""
        if self._sent_at is None:
            return True
        quiet = ticks_diff(ticks_ms(), self._sent_at) / 1000
        if self.throttle and quiet < self.throttle:
            return False
        if self.delta is None:
            return True
        if self.max_silence and quiet >= self.max_silence:
            return True
        for sensor_type, record in records.items():
            value, last = record[2], self._sent.get(sensor_type)
            if value is None:
                continue
            if last is None or isinstance(value, (bool, str)) or isinstance(last, (bool, str)):
                if value != last:
                    return True
            elif abs(value - last) > self.delta:
                return True
        return False

    due = passes  # at a scheduled publication the same rule holds

    def published(self, records):
        for sensor_type, record in records.items():
            if record[2] is not None:
                self._sent[sensor_type] = record[2]
        self._sent_at = ticks_ms()


def gate(spec):
    """The publish filters of a sensor's `filters` option (all types' lists), or None."""
    delta = max_silence = throttle = None
    lists = spec.values() if isinstance(spec, dict) else (spec,)
    for items in lists:
        for item in _specs(items, None):
            for key, value in item.items():
                if key == "delta":
                    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                        raise ValueError("filter delta needs a number >= 0, got %r" % (value,))
                    delta = value
                elif key == "max_silence":
                    max_silence = _seconds(value, key)
                elif key == "throttle":
                    throttle = _seconds(value, key)
    if max_silence is not None and delta is None:
        raise ValueError(
            'filter max_silence belongs to a delta filter: {"delta": x, "max_silence": s}'
        )
    if delta is None and throttle is None:
        return None
    return Gate(delta, max_silence, throttle)
