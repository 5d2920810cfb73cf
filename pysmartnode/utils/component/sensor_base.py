"""What a ComponentSensor declares: its sensor types, intervals, topic and Home Assistant
entities (the base of ComponentSensor in sensor.py, which reads, filters and publishes), and the
one scheduler task of all sensors with their one pair of interval subscriptions.

A sensor joins the scheduler at start() and leaves it at stop(). The scheduler sleeps until the
next reading or publication of any sensor falls due, then runs that sensor's `_run` as a short
task of its own: a slow sensor delays no other, and a sensor raising there is logged and tried
again after a back-off (sensor.py), never the scheduler's end. Its state lives on SensorBase.
What is needed only to build a sensor or change its intervals is in sensor_setup.py, loaded then.
"""

import asyncio

from pysmartnode import platform  # its ticks_*, sleep_ms: one name here, not four
from pysmartnode.platform import const
from pysmartnode.utils.component import base

# A sensor type's record: one list per type, indexed by these (a list costs less than an
# object; 8 items fill two 32 B blocks, a ninth takes a third)
_PRECISION = const(0)
_OFFSET = const(1)
_VALUE = const(2)
_TIME = const(3)  # ticks_ms of the last reading, None before the first
_UNIT = const(4)
_CLASS = const(5)
_STATE_CLASS = const(6)
_NAME = const(7)  # the entity name, or (name, entity category) when a category is given
# A type's filters.Chain is in the sensor's _chains ({type: chain}, only with filters)
_BUSY_MS = const(60000)  # the scheduler's longest sleep while a sensor's run is under way


class SensorBase(base.ComponentBase):
    """The declarations of ComponentSensor (see its docstring); not used on its own.

    Its rarely used methods and properties (sensor_types, intervals, getTopic, getTemplate,
    getTimestamp, set_intervals, getReadingsEvent) are functions in sensor_setup.py, loaded
    for each call (ComponentBase.__getattr__).
    """

    _rare = (
        "sensor_setup getTopic getTemplate getTimestamp set_intervals getReadingsEvent _read"
        " *sensor_types *intervals "
    )

    # The shared scheduler (below; class state, set at run time): the started
    # sensors, its task, the ticks_ms it sleeps until (None: about to look at the sensors
    # again) and the MQTT handle that holds the sensors' interval subscriptions
    _sensors = None
    _scheduler = None
    _wake_at = None
    _subscribed = None
    # Per sensor, defaults in base._DEFAULTS: _busy, the task running its due reading or
    # publication (sensor._run); _next_read and _next_publish, ticks_ms of the next ones (None
    # while not started); _backoff, seconds before the next try after sensor._run raised (1)

    def _add_sensor_type(self, sensor_type, *args, **kwargs):
        """Declares a measured quantity: `_add_sensor_type(sensor_type, unit=None,
        precision=None, device_class=None, state_class=None, name=None, offset=0,
        entity_category=None)` (the defaults are sensor_setup.add_type's: a function with
        default arguments costs a tuple of them on the heap for as long as the class lives).

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

        add_type(self, sensor_type, *args, **kwargs)

    # ------------------------------------------------------------------ scheduling

    def _due(self, now):
        # ms until this sensor's next reading or publication (<= 0: due); None: on demand only
        due = None
        if self._interval_reading > 0:
            due = platform.ticks_diff(self._next_read, now)
        if self._interval_publish > 0:
            pub = platform.ticks_diff(self._next_publish, now)
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
            name, category = record[_NAME], None
            if isinstance(name, tuple):
                name, category = name
            fields["name"] = name or self._entity_name(None if bare else sensor_type)
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
            if category:
                fields["ent_cat"] = category
            if expire:
                fields["exp_aft"] = expire
            entities.append(
                (self.name if bare else self.name + "_" + sensor_type, "sensor", fields)
            )
        return entities


# ---------------------------------------------------------------------- the shared scheduler

# Every sensor's intervals: commands on ./<name>/interval/set, the retained state on
# ./<name>/interval (delivered at every subscribe, so at start and after a reconnect); the
# topics written out where used, not as two names of this module's dict


def join(sensor):
    sensors = SensorBase._sensors
    if sensors is None:
        sensors = SensorBase._sensors = []
    if sensor not in sensors:
        mqtt = sensor._mqtt
        if mqtt is not None and SensorBase._subscribed is None:
            SensorBase._subscribed = mqtt
            mqtt.subscribe("./+/interval/set", _on_intervals, 1, False, True)
            mqtt.subscribe("./+/interval", _on_intervals, 1, False, True)
        sensors.append(sensor)
    sensor._next_read = sensor._next_publish = platform.ticks_ms()
    kick()


def ran(sensor):
    # sensor._run ended: wake the scheduler if it sleeps past this sensor's next due time.
    # _busy is deleted, not set to None: its slot is free while the sensor sleeps (base.py)
    if sensor._busy is not None:  # (leave() cancelled the run: gone already)
        sensor._busy = None  # first: a deleted slot keeps its value, the task with it
        del sensor._busy
    if sensor._next_read is None:
        return  # stopped
    due = sensor._due(platform.ticks_ms())
    wake = SensorBase._wake_at
    if due is not None and (
        SensorBase._scheduler is None
        or (wake is not None and platform.ticks_diff(wake, platform.ticks_ms()) > due)
    ):
        kick()


def kick():
    # Makes the scheduler look at every sensor now, then sleep until the next due time: a new
    # sensor or interval takes effect at once. A sleeping scheduler is woken by cancelling its
    # sleep, which it catches (one task for the node's life: five sensors joining at the build
    # make one task, not five, and a task the node notes keeps its coroutine); one that has not
    # looked yet (_wake_at None) will see the change anyway
    SensorBase._wake_at, wake_at = None, SensorBase._wake_at
    if SensorBase._scheduler is None:
        SensorBase._scheduler = asyncio.create_task(_scheduler())
    elif wake_at is not None:
        SensorBase._scheduler.cancel()


async def _scheduler():
    sensors = SensorBase._sensors
    while True:
        now = platform.ticks_ms()
        wait = None
        try:
            for sensor in sensors:
                due = sensor._due(now)
                if due is None:
                    continue  # on demand only
                if due <= 0:
                    if sensor._busy is None:
                        # One run started per loop turn: sensors falling due together (all of
                        # them at the start) do not hold their runs' tasks, frames and readings
                        # at once, while a run that waits (a slow sensor) still delays no other
                        sensor._busy = asyncio.create_task(sensor._run())
                        wait = 0
                        break
                    due = _BUSY_MS  # its _run sets the next due time, wakes us if we sleep past it
                if wait is None or due < wait:
                    wait = due
        except MemoryError:  # no heap for the run's task a moment: look again in a second
            wait = 1000
        if wait is None:
            SensorBase._scheduler = None  # nothing timed: ran() or kick() starts it again
            return
        SensorBase._wake_at = platform.ticks_add(now, wait)
        try:
            await platform.sleep_ms(wait)  # the platform's: MicroPython's sleep() makes a float
        except asyncio.CancelledError:
            if (
                SensorBase._wake_at is not None
                or SensorBase._scheduler is not asyncio.current_task()
            ):
                raise  # stopped (leave(), the node's stop), not woken (kick())


def _on_intervals(topic, msg, retained):
    # ./<name>/interval/set, or ./<name>/interval: only its retained state (a live message there
    # is the echo of a change made here)
    if topic[-4:] != "/set" and not retained:
        return None
    name = topic[2 : topic.find("/", 2)]
    for sensor in SensorBase._sensors or ():
        if sensor.name == name:
            from pysmartnode.utils import forget
            from pysmartnode.utils.component import sensor_setup

            try:
                return sensor_setup.on_intervals(sensor, msg)
            finally:  # loaded for this message only
                forget("pysmartnode.utils.component.sensor_setup")
    return None
