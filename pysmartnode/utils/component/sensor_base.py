"""What a ComponentSensor declares: its sensor types, intervals, topic and Home Assistant
entities (the base of ComponentSensor in sensor.py, which reads, filters and publishes), and the
the hooks of the one scheduler task (sensor_schedule.py) that runs every sensor's readings and
publications on their intervals."""

from pysmartnode.platform import const, ticks_diff
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
        from pysmartnode.utils.component.sensor_setup import add_type

        add_type(self, sensor_type, unit, precision, device_class, state_class, name, offset,
                 entity_category)  # fmt: skip

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
        from pysmartnode.utils.component import sensor_schedule, sensor_setup

        try:
            return sensor_setup.set_intervals(self, reading, publish, retain)
        finally:  # loaded for this change only
            sensor_schedule.drop("sensor_setup")

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
