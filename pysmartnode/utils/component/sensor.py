"""ComponentSensor: read on one interval, publish on another, filters, discovery. See
docs/components.md."""

import asyncio
import json

from pysmartnode.platform import const, ticks_add, ticks_diff, ticks_ms
from pysmartnode.utils.component.base import ComponentBase

# A sensor type's record: one list per type, indexed by these (a list costs less than an object)
_PRECISION = const(0)
_OFFSET = const(1)
_VALUE = const(2)
_TIME = const(3)  # ticks_ms of the last reading, None before the first
_UNIT = const(4)
_CLASS = const(5)
_STATE_CLASS = const(6)
_NAME = const(7)
_CATEGORY = const(8)
_FILTER = const(9)  # filters.Chain, or None
_SET = const(10)  # set by _set_value during the reading under way
_DEFAULT_TIMEOUT = 10  # seconds getValue waits for an on-demand reading


def check_intervals(reading, publish):
    """Raises ValueError unless reading and publish are seconds > 0 or -1, publish >= reading."""
    for key, value in (("interval_reading", reading), ("interval_publish", publish)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("%s must be seconds (a number), got %r" % (key, value))
        if value <= 0 and value != -1:
            raise ValueError("%s must be > 0, or -1 for on demand only, got %r" % (key, value))
    if publish != -1 and reading != -1 and publish < reading:
        raise ValueError(
            "interval_publish (%r s) must not be shorter than interval_reading (%r s)"
            % (publish, reading)
        )


class ComponentSensor(ComponentBase):
    """A sensor: the subclass reads, the base publishes, filters and announces.

    Subclasses call `_add_sensor_type(...)` in `__init__` once per measured quantity and
    implement `async _read()`, which calls `_set_value(type, value)` for each type it got.
    `_read` raising, or setting nothing, is a failed reading: nothing is published, the
    readings event is not set, and the failure is logged once per streak.

    Args:
        name: the config key (see ComponentBase).
        interval_reading: seconds between readings; -1: only on demand (getValue).
            Default: INTERVAL_SENSOR_READ.
        interval_publish: seconds between publications (>= interval_reading); -1: only on
            demand (getValue(publish=True)). Default: INTERVAL_SENSOR_PUBLISH.
        precision: decimals to round to: a number for every type, or {type: n}.
        offset: added to every reading after the filters: a number, or {type: x}.
        filters: a list of filters for every type, or {type: [filters]}; each filter a
            one-key dict: {"average": n}, {"median": n}, {"linear": [a, b]} (a*x + b),
            {"delta": x, "max_silence": s}, {"throttle": s}. See docs/components.md.
        retain: publish readings retained (default False).
        discover, friendly_name: see ComponentBase.

    Raises:
        ValueError: a bad interval, precision, offset or filter (the message names it).
    """

    def __init__(self, name, interval_reading=None, interval_publish=None, precision=None,
                 offset=None, filters=None, retain=False, discover=True, friendly_name=None):  # fmt: skip
        super().__init__(name, discover, friendly_name)
        from pysmartnode import config

        if interval_reading is None:
            interval_reading = config.INTERVAL_SENSOR_READ
        if interval_publish is None:
            interval_publish = max(config.INTERVAL_SENSOR_PUBLISH, interval_reading)
        check_intervals(interval_reading, interval_publish)
        self._interval_reading = interval_reading
        self._interval_publish = interval_publish
        self._precision = precision
        self._offset = offset
        self._filter_spec = filters
        self._gate = None  # filters.Gate when delta/throttle filters are set
        if filters:
            from pysmartnode.utils.component import filters as f

            self._gate = f.gate(filters)
        self._retain = retain
        self._types = {}
        self._topic = "./" + name
        self._fresh = False  # a successful reading not yet published
        self._failing = False
        self._readings = 0
        self._last_ok = False
        self._lock = asyncio.Lock()
        self._event = None
        self._loop_task = None
        self._publishing = None
        self._again = False

    # ------------------------------------------------------------------ for subclasses

    def _add_sensor_type(self, sensor_type, unit=None, precision=None, device_class=None,
                         state_class=None, name=None, offset=0, entity_category=None):  # fmt: skip
        """Declares a measured quantity.

        Args:
            sensor_type: the key in the payload; a SENSOR_* name gets its HA device class,
                unit and state class by default.
            unit: the unit (default: the device class's); "" for none.
            precision: decimals (default: the constructor's precision, else not rounded).
            device_class: HA device class (default: sensor_type if it is one); "" for none.
            state_class: "measurement", "total", "total_increasing"; "" for none (text).
            name: the entity name in HA (default: friendly name, plus the type if several).
            offset: added to each reading (the constructor's offset wins when given).
            entity_category: None, or "diagnostic".
        """
        from pysmartnode.utils.component import definitions as d

        if not isinstance(sensor_type, str) or not sensor_type:
            raise ValueError("sensor type must be a non-empty string, got %r" % (sensor_type,))
        if device_class is None:
            device_class = sensor_type if d.is_sensor_class(sensor_type) else ""
        if unit is None:
            unit = d.default_unit(device_class) or ""
        if state_class is None:
            state_class = d.default_state_class(device_class) or ""
        precision = self._pick(self._precision, sensor_type, precision)
        offset = self._pick(self._offset, sensor_type, offset) or 0
        if precision is not None and (isinstance(precision, bool) or not isinstance(precision, int)
                                      or not 0 <= precision <= 10):  # fmt: skip
            raise ValueError("precision must be 0 to 10 decimals, got %r" % (precision,))
        if isinstance(offset, bool) or not isinstance(offset, (int, float)):
            raise ValueError("offset must be a number, got %r" % (offset,))
        chain = None
        if self._filter_spec:
            from pysmartnode.utils.component import filters as f

            chain = f.chain(self._filter_spec, sensor_type)
        self._types[sensor_type] = [precision, offset, None, None, unit, device_class,
                                    state_class, name, entity_category, chain, False]  # fmt: skip

    @staticmethod
    def _pick(option, sensor_type, default):
        if isinstance(option, dict):
            return option.get(sensor_type, default)
        return default if option is None else option

    def _set_value(self, sensor_type, value):
        """Stores a reading of sensor_type (after filters, offset, precision). None: no value.

        Raises ValueError for a type not declared with _add_sensor_type.
        """
        record = self._types.get(sensor_type)
        if record is None:
            raise ValueError(
                "unknown sensor type %r: declare it with _add_sensor_type" % sensor_type
            )
        if value is None:
            return
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if record[_FILTER] is not None:
                value = record[_FILTER].feed(value)
            value += record[_OFFSET]
            if record[_PRECISION] is not None:
                value = round(value, record[_PRECISION])
                if record[_PRECISION] == 0:
                    value = int(value)
        record[_VALUE] = value
        record[_TIME] = ticks_ms()
        record[_SET] = True

    async def _read(self):
        """Hook: read the hardware and call _set_value for each type. Must be implemented."""
        raise NotImplementedError("%s has no _read()" % type(self).__name__)

    # ------------------------------------------------------------------ public API

    @property
    def sensor_types(self):
        """The declared sensor types."""
        return list(self._types)

    async def getValue(self, sensor_type, publish=False, timeout=None, max_age=None):
        """The last value of sensor_type, read now if needed.

        It reads now when the sensor reads only on demand (interval_reading -1), when it has
        no value yet, or when the value is older than max_age seconds; concurrent calls share
        one reading. Returns None when there is no value (the reading failed).

        Args:
            publish: publish the values after a reading made here.
            timeout: seconds to wait for that reading (default 10).
        """
        record = self._record(sensor_type)
        stale = record[_TIME] is None or self._interval_reading == -1
        if not stale and max_age is not None:
            stale = ticks_diff(ticks_ms(), record[_TIME]) > max_age * 1000
        if stale:
            try:
                ok = await asyncio.wait_for(
                    self._read_now(), _DEFAULT_TIMEOUT if timeout is None else timeout
                )
            except asyncio.TimeoutError:
                self._log.warning("reading took longer than %s s", timeout or _DEFAULT_TIMEOUT)
                ok = False
            if ok and publish:
                self._publish_soon()
        return record[_VALUE]

    def getTopic(self, sensor_type=None):
        """The state topic of sensor_type (device form `./<name>`; all types share it)."""
        self._record(sensor_type)
        return self._topic

    def getTemplate(self, sensor_type=None):
        """The HA value template that extracts sensor_type from the state topic."""
        self._record(sensor_type)
        if self._bare():
            return "{{ value }}"
        return "{{ value_json.%s }}" % sensor_type

    def getTimestamp(self, sensor_type=None):
        """ticks_ms of the last reading of sensor_type (not wall-clock time), None before."""
        return self._record(sensor_type)[_TIME]

    def getReadingsEvent(self):
        """An asyncio.Event set after every successful reading (the consumer clears it)."""
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    @property
    def intervals(self):
        """(interval_reading, interval_publish) in seconds."""
        return self._interval_reading, self._interval_publish

    def set_intervals(self, reading=None, publish=None):
        """Changes the reading and/or publish interval now (None keeps one).

        Also over MQTT: `./<name>/interval/set` with {"reading": s, "publish": s}; that change
        is kept retained on `./<name>/interval` and restored at the next start.

        Raises:
            ValueError: the pair would be invalid; nothing changes then.
        """
        reading = self._interval_reading if reading is None else reading
        publish = self._interval_publish if publish is None else publish
        check_intervals(reading, publish)
        changed = (reading, publish) != self.intervals
        self._interval_reading, self._interval_publish = reading, publish
        if changed and self._loop_task is not None:  # count from now, with the new intervals
            self._loop_task.cancel()
            self._tasks.remove(self._loop_task)
            self._loop_task = self._spawn(self._loop)
        if changed and self.discover:
            from pysmartnode import node

            if node.discovery is not None:
                node.discovery.refresh()  # expire_after follows the publish interval
        return changed

    # ------------------------------------------------------------------ internals

    def _record(self, sensor_type):
        if sensor_type is None and len(self._types) == 1:
            for record in self._types.values():
                return record
        record = self._types.get(sensor_type)
        if record is None:
            raise ValueError("%s has no sensor type %r" % (self.name, sensor_type))
        return record

    def _bare(self):
        return len(self._types) == 1

    def _start(self):
        self._subscribe(
            self._topic + "/interval/set", self._on_intervals, restore_state=True, parse_json=True
        )
        self._loop_task = self._spawn(self._loop)

    def _on_intervals(self, topic, msg, retained):
        if (
            not isinstance(msg, dict)
            or not msg
            or [k for k in msg if k not in ("reading", "publish")]
        ):
            what = "unknown key" if isinstance(msg, dict) and msg else type(msg).__name__
            # the type only: a repr of deep JSON would recurse
            self._log.warning('ignored intervals (%s): want {"reading": s, "publish": s}', what)
            return None
        try:
            self.set_intervals(msg.get("reading"), msg.get("publish"))
        except ValueError as e:
            self._log.warning("ignored intervals: %s", e)
            return None
        self._log.info("intervals: reading %s s, publish %s s", *self.intervals)
        return {"reading": self._interval_reading, "publish": self._interval_publish}

    async def _read_now(self):
        count = self._readings
        async with self._lock:
            if self._readings != count:  # someone read while we waited: share that reading
                return self._last_ok
            for record in self._types.values():
                record[_SET] = False
            error = None
            try:
                await self._read()
            except Exception as e:  # the one broad catch around a subclass (STYLE §6)
                error = "%s: %s" % (type(e).__name__, e)
            ok = error is None and any(r[_SET] for r in self._types.values())
            self._readings += 1
            self._last_ok = ok
        if ok:
            self._fresh = True
            if self._failing:
                self._failing = False
                self._log.info("reading again")
            if self._event is not None:
                self._event.set()
        elif not self._failing:
            self._failing = True  # logged once per streak, not every interval
            self._log.error("reading failed: %s", error or "no value")
        return ok

    async def _loop(self):
        # A change of intervals restarts this loop (set_intervals): no Event and no wait_for
        # task per sensor, which on MicroPython cost a few hundred bytes each
        next_read = next_publish = ticks_ms()
        while True:
            reading, publish = self._interval_reading, self._interval_publish
            now = ticks_ms()
            if reading > 0 and ticks_diff(now, next_read) >= 0:
                next_read = ticks_add(now, int(reading * 1000))
                if await self._read_now() and self._gate is not None:
                    if self._gate.passes(self._types):
                        self._publish_soon()
            if publish > 0 and ticks_diff(now, next_publish) >= 0:
                next_publish = ticks_add(now, int(publish * 1000))
                if reading == -1:
                    await self._read_now()
                if self._fresh and (self._gate is None or self._gate.due(self._types)):
                    self._publish_soon()
            if reading <= 0 and publish <= 0:
                return  # on demand only; set_intervals starts the loop again
            wait = 1 << 30
            if reading > 0:
                wait = ticks_diff(next_read, ticks_ms())
            if publish > 0:
                wait = min(wait, ticks_diff(next_publish, ticks_ms()))
            await asyncio.sleep(max(0, wait) / 1000)

    def _payload(self):
        if self._bare():
            for record in self._types.values():
                value = record[_VALUE]
                return None if value is None else json.dumps(value)
        values = {}
        for sensor_type, record in self._types.items():
            if record[_VALUE] is not None:
                values[sensor_type] = record[_VALUE]
        return json.dumps(values) if values else None

    def _publish_soon(self):
        # One publication at a time; a newer reading while one is under way is sent after it
        if self._publishing is not None:
            self._fresh = False
            self._again = True
        elif not self._waits_for_discovery():  # else discovery's state pass publishes it
            self._fresh = False
            self._publishing = asyncio.create_task(self._publish_values())

    async def _publish_values(self):
        try:
            again = True
            while again:
                self._again = False
                payload = self._payload()
                if payload is not None:
                    if self._gate is not None:
                        self._gate.published(self._types)
                    await self._publish(self._topic, payload, self._retain, 1)
                again = self._again
        except Exception as e:  # a failed publication must not end the next ones
            self._log.error("publish failed: %s", e)
        finally:
            self._publishing = None

    async def _publish_state(self):
        # Discovery's state pass (every connect): published in its turn, one component after
        # the other; one under way already sends the latest values
        payload = None if self._publishing is not None else self._payload()
        if payload is not None:
            self._fresh = False
            if self._gate is not None:
                self._gate.published(self._types)
            await self._publish(self._topic, payload, self._retain, 1)

    def stop(self):
        if self._publishing is not None:
            self._publishing.cancel()
            self._publishing = None
        super().stop()

    def discovery_entities(self):
        entities = []
        bare = self._bare()
        expire = None
        if self._interval_publish > 0:
            longest = max(self._interval_publish, self._interval_reading)
            if self._gate is not None:
                longest = max(longest, self._gate.max_silence or 0)
            expire = int(longest * 2.1) + 5
        for sensor_type, record in self._types.items():
            fields = {"stat_t": self._topic}
            fields["name"] = record[_NAME] or self._entity_name(None if bare else sensor_type)
            if not bare:
                fields["val_tpl"] = "{{ value_json.%s }}" % sensor_type
            if record[_CLASS]:
                fields["dev_cla"] = record[_CLASS]
            if record[_UNIT]:
                fields["unit_of_meas"] = record[_UNIT]
            if record[_STATE_CLASS]:
                fields["stat_cla"] = record[_STATE_CLASS]
            if record[_PRECISION] is not None:
                fields["sug_dsp_prc"] = record[_PRECISION]
            if record[_CATEGORY]:
                fields["ent_cat"] = record[_CATEGORY]
            if expire:
                fields["exp_aft"] = expire
            entities.append(
                (self.name if bare else self.name + "_" + sensor_type, "sensor", fields)
            )
        return entities
