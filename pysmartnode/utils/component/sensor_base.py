"""What a ComponentSensor declares: its sensor types, intervals, topic and Home Assistant
entities (the base of ComponentSensor in sensor.py, which reads, filters and publishes), and the
the hooks of the one scheduler task (sensor_schedule.py) that runs every sensor's readings and
publications on their intervals."""

import asyncio

from pysmartnode.platform import const, ticks_diff, ticks_ms
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


class SensorBase(ComponentBase):
    """The declarations of ComponentSensor (see its docstring); not used on its own."""

    # The shared scheduler (sensor_schedule.py; class state, set at run time): the started
    # sensors, its task, the ticks_ms it sleeps until (None: about to look at the sensors
    # again) and the MQTT handle that holds the sensors' interval subscriptions
    _sensors = None
    _scheduler = None
    _wake_at = None
    _subscribed = None
    _busy = None  # the task running this sensor's due reading/publication (sensor._run)
    _next_read = None  # ticks_ms of the next reading, None while not started
    _next_publish = None
    _backoff = 1  # seconds before the next try after sensor._run raised

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

    @property
    def sensor_types(self):
        """The declared sensor types."""
        return list(self._types)

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

    @property
    def intervals(self):
        """(interval_reading, interval_publish) in seconds."""
        return self._interval_reading, self._interval_publish

    def set_intervals(self, reading=None, publish=None, retain=True):
        """Changes the reading and/or publish interval now (None keeps one).

        Also over MQTT: `./<name>/interval/set` with {"reading": s, "publish": s}. Either way
        the change is kept retained on `./<name>/interval` (retain=False: not) and restored at
        the next start and at every reconnect.

        Raises:
            ValueError: the pair would be invalid; nothing changes then.
        """
        reading = self._interval_reading if reading is None else reading
        publish = self._interval_publish if publish is None else publish
        check_intervals(reading, publish)
        changed = (reading, publish) != self.intervals
        self._interval_reading, self._interval_publish = reading, publish
        if changed and self._next_read is not None:  # count from now, with the new intervals
            from pysmartnode.utils.component.sensor_schedule import kick

            self._next_read = self._next_publish = ticks_ms()
            kick()
        if changed and retain and self._mqtt is not None:
            asyncio.create_task(
                self._mqtt.publish(self._topic + "/interval", self._interval_state(), True, 1)
            )
        if changed and self.discover:
            from pysmartnode import node

            if node.discovery is not None:
                node.discovery.refresh()  # expire_after follows the publish interval
        return changed

    # ------------------------------------------------------------------ scheduling

    def _schedule(self):
        # Joins the shared scheduler (start): first reading and publication now
        from pysmartnode.utils.component.sensor_schedule import join

        join(self)

    def _unschedule(self):
        # Leaves the shared scheduler (stop)
        if self._next_read is not None:
            from pysmartnode.utils.component.sensor_schedule import leave

            leave(self)

    def _due(self, now):
        # ms until this sensor's next reading or publication (<= 0: due); None: on demand only
        due = None
        if self._interval_reading > 0:
            due = ticks_diff(self._next_read, now)
        if self._interval_publish > 0:
            pub = ticks_diff(self._next_publish, now)
            if due is None or pub < due:
                due = pub
        return due

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
        try:  # a command is echoed retained by the MQTT handle, a retained state is one
            changed = self.set_intervals(msg.get("reading"), msg.get("publish"), False)
        except ValueError as e:
            self._log.warning("ignored intervals: %s", e)
            return None
        if changed:  # (a reconnect delivers the retained state again: no news then)
            self._log.info("intervals: reading %s s, publish %s s", *self.intervals)
        return self._interval_state()

    def _interval_state(self):
        return {"reading": self._interval_reading, "publish": self._interval_publish}

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
