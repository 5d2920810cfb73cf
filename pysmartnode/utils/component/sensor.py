"""ComponentSensor: read on one interval, publish on another, filters (what a sensor declares,
its intervals and its entities: sensor_base.py). See docs/components.md."""

import asyncio
import json

from pysmartnode.platform import const, ticks_add, ticks_diff, ticks_ms
from pysmartnode.utils.component import sensor_base  # one name in this module's dict, not four

# Indices of a sensor type's record (all of them: sensor_base.py; a const is not importable on
# MicroPython)
_PRECISION = const(0)
_OFFSET = const(1)
_VALUE = const(2)
_TIME = const(3)
_DEFAULT_TIMEOUT = const(10)  # seconds getValue waits for an on-demand reading
_BACKOFF_MAX = const(60)  # seconds between tries of a sensor whose _run keeps raising


class ComponentSensor(sensor_base.SensorBase):
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

    # Defaults (base._DEFAULTS), set per instance only when they differ: _precision, _offset,
    # _filter_spec, _gate (None); _retain, _fresh (a successful reading not yet published),
    # _failing, _again (False); _event, _publishing, _in_read (see _read_now), _chains ({type:
    # filters.Chain}, with value filters only) (None)

    def __init__(self, name, *args, **kwargs):
        # The arguments of the docstring, checked by sensor_setup.init (it has the defaults: a
        # function with default arguments keeps a tuple of them on the heap while it lives)
        from pysmartnode.utils.component.sensor_setup import init

        init(self, name, *args, **kwargs)

    # ------------------------------------------------------------------ for subclasses

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
            if self._chains is not None:
                chain = self._chains.get(sensor_type)
                if chain is not None:
                    value = chain.feed(value)
            value += record[_OFFSET]
            if record[_PRECISION] is not None:
                value = round(value, record[_PRECISION])
                if record[_PRECISION] == 0:
                    value = int(value)
        record[_VALUE] = value
        record[_TIME] = ticks_ms()
        shared = self._in_read
        if shared is not None:
            shared[2] = True  # the reading under way got a value

    # ------------------------------------------------------------------ public API

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

    # ------------------------------------------------------------------ internals

    def _start(self):
        sensor_base.join(
            self
        )  # the shared scheduler; it subscribes the intervals topics of all sensors

    async def _read_now(self):
        # One reading at a time; a caller arriving during one waits for it and shares its
        # result. _in_read is [Event or None, result, got a value] while one runs (the Event made
        # only once a caller waits: no asyncio.Lock per sensor, nor its module); result None:
        # it was cancelled
        while self._in_read is not None:
            shared = self._in_read
            if shared[0] is None:
                shared[0] = asyncio.Event()
            await shared[0].wait()
            if shared[1] is not None:
                return shared[1]
        shared = self._in_read = [None, None, False]
        ok = None
        try:
            error = None
            try:
                await self._read()
            except Exception as e:  # the one broad catch around a subclass (STYLE §6)
                error = "%s: %s" % (type(e).__name__, e)
            ok = error is None and shared[2]
        finally:  # also when cancelled (getValue's timeout): a waiter then reads itself
            self._in_read = None  # first: a deleted slot keeps its value (base._DEFAULTS)
            del self._in_read
            shared[1] = ok
            if shared[0] is not None:
                shared[0].set()
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

    async def _run(self):
        # The shared scheduler (sensor_base.py) started this when a reading or publication fell
        # due; a run that overran the next due time goes on at once. No task and no Event per
        # sensor, which on MicroPython cost a few hundred bytes each
        try:
            while True:
                reading, publish = self._interval_reading, self._interval_publish
                now = ticks_ms()
                read = reading > 0 and ticks_diff(now, self._next_read) >= 0
                due = publish > 0 and ticks_diff(now, self._next_publish) >= 0
                if not (read or due):
                    break
                if read:
                    self._next_read = ticks_add(now, int(reading * 1000))
                    if await self._read_now() and self._gate is not None:
                        if self._gate.passes(self._types):
                            self._publish_soon()
                if due:
                    self._next_publish = ticks_add(now, int(publish * 1000))
                    if reading == -1:
                        await self._read_now()
                    if self._fresh and (self._gate is None or self._gate.due(self._types)):
                        self._publish_soon()
            if self._backoff > 1:
                del self._backoff  # 1 again (base._DEFAULTS)
        except Exception as e:  # CancelledError is not an Exception: stop() still works
            backoff = self._backoff
            self._log.error("run failed: %s: %s; next in %d s", type(e).__name__, e, backoff)
            self._next_read = self._next_publish = ticks_add(ticks_ms(), backoff * 1000)
            self._backoff = min(backoff * 2, _BACKOFF_MAX)
        finally:
            sensor_base.ran(self)

    def _publish_soon(self):
        # One publication at a time; a newer reading while one is under way is sent after it.
        # Once out (or on its way) a reading is not fresh: _fresh deleted (base._DEFAULTS)
        if self._publishing is not None:
            if self._fresh:
                del self._fresh
            self._again = True
        elif not self._waits_for_discovery():  # else discovery's state pass publishes it
            if self._fresh:
                del self._fresh
            self._publishing = asyncio.create_task(self._publish_values())

    async def _publish_values(self):
        try:
            again = True
            while again:
                if self._again:  # set only when a reading came during a publication
                    del self._again
                payload = _payload(self)
                if payload is not None:
                    if self._gate is not None:
                        self._gate.published(self._types)
                    await self._publish(self._topic, payload, self._retain, 1)
                again = self._again
        except Exception as e:  # a failed publication must not end the next ones
            self._log.error("publish failed: %s", e)
        finally:
            if self._publishing is not None:  # (stop() cancelled it: gone already)
                self._publishing = None  # then deleted (base._DEFAULTS)
                del self._publishing

    async def _publish_state(self):
        # Discovery's state pass (every connect): published in its turn, one component after
        # the other; one under way already sends the latest values
        payload = None if self._publishing is not None else _payload(self)
        if payload is not None:
            if self._fresh:
                del self._fresh
            if self._gate is not None:
                self._gate.published(self._types)
            await self._publish(self._topic, payload, self._retain, 1)

    def stop(self):
        if self._next_read is not None:  # leave the scheduler: sensor_setup.py's, loaded for it
            from pysmartnode.utils import forget
            from pysmartnode.utils.component.sensor_setup import leave

            try:
                leave(self)
            finally:
                forget("pysmartnode.utils.component.sensor_setup")
        if self._publishing is not None:
            self._publishing.cancel()
            self._publishing = None
            del self._publishing
        sensor_base.SensorBase.stop(self)


def _payload(sensor):
    # The state payload: the one value of a sensor with one type, else {type: value}. (Not a
    # method: ComponentSensor's table is full at 12 names, a 13th grows it by 96 B)
    if sensor._bare():
        for record in sensor._types.values():
            value = record[_VALUE]
            return None if value is None else json.dumps(value)
    values = {}
    for sensor_type, record in sensor._types.items():
        if record[_VALUE] is not None:
            values[sensor_type] = record[_VALUE]
    return json.dumps(values) if values else None
