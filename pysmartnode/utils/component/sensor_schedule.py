"""The one scheduler task of all sensors, and their one pair of interval subscriptions.

A sensor joins at start() and leaves at stop() (sensor_base.py). The scheduler sleeps until the
next reading or publication of any sensor falls due, then runs that sensor's `_run` as a short
task of its own: a slow sensor delays no other, and a sensor raising there is logged and tried
again after a back-off (sensor.py), never the scheduler's end. Its state lives on SensorBase.
"""

import asyncio
import sys

from pysmartnode.platform import ticks_add, ticks_diff, ticks_ms
from pysmartnode.utils.component.sensor_base import SensorBase

# Every sensor's intervals: commands on ./<name>/interval/set, the retained state on
# ./<name>/interval (delivered at every subscribe, so at start and after a reconnect)
_COMMANDS = "./+/interval/set"
_STATES = "./+/interval"


def join(sensor):
    sensors = SensorBase._sensors
    if sensors is None:
        sensors = SensorBase._sensors = []
    if sensor not in sensors:
        mqtt = sensor._mqtt
        if mqtt is not None and SensorBase._subscribed is None:
            SensorBase._subscribed = mqtt
            mqtt.subscribe(_COMMANDS, _on_intervals, 1, False, True)
            mqtt.subscribe(_STATES, _on_intervals, 1, False, True)
        sensors.append(sensor)
    sensor._next_read = sensor._next_publish = ticks_ms()
    kick()


def leave(sensor):
    # The last one out ends the task and the subscriptions
    sensors = SensorBase._sensors
    if sensor in sensors:
        sensors.remove(sensor)
    sensor._next_read = None
    if sensor._busy is not None:
        sensor._busy.cancel()
        sensor._busy = None
    if not sensors:
        if SensorBase._scheduler is not None:
            SensorBase._scheduler.cancel()
            SensorBase._scheduler = None
        mqtt = SensorBase._subscribed
        if mqtt is not None:
            SensorBase._subscribed = None
            mqtt.unsubscribe(_COMMANDS, _on_intervals)
            mqtt.unsubscribe(_STATES, _on_intervals)


def ran(sensor):
    # sensor._run ended: wake the scheduler if it sleeps past this sensor's next due time
    sensor._busy = None
    if sensor._next_read is None:
        return  # stopped
    due = sensor._due(ticks_ms())
    wake = SensorBase._wake_at
    if due is not None and (
        SensorBase._scheduler is None or (wake is not None and ticks_diff(wake, ticks_ms()) > due)
    ):
        kick()


def kick():
    # (Re)starts the scheduler task: it looks at every sensor at once, then sleeps until the
    # next due time. Cancelling its sleep is how a new sensor or interval takes effect now
    if SensorBase._scheduler is not None:
        SensorBase._scheduler.cancel()
    SensorBase._wake_at = None
    SensorBase._scheduler = asyncio.create_task(_scheduler())


async def _scheduler():
    sensors = SensorBase._sensors
    while True:
        now = ticks_ms()
        wait = None
        for sensor in sensors:
            due = sensor._due(now)
            if due is None:
                continue  # on demand only
            if due <= 0:
                if sensor._busy is None:
                    sensor._busy = asyncio.create_task(sensor._run())
                continue  # its _run sets the next due time and wakes us if we sleep past it
            if wait is None or due < wait:
                wait = due
        if wait is None:
            SensorBase._scheduler = None  # nothing timed: ran() or kick() starts it again
            return
        SensorBase._wake_at = ticks_add(now, wait)
        await asyncio.sleep(wait / 1000)


def _on_intervals(topic, msg, retained):
    # ./<name>/interval/set, or ./<name>/interval: only its retained state (a live message there
    # is the echo of a change made here)
    if topic[-4:] != "/set" and not retained:
        return None
    name = topic[2 : topic.find("/", 2)]
    for sensor in SensorBase._sensors or ():
        if sensor.name == name:
            from pysmartnode.utils.component import sensor_setup

            try:
                return sensor_setup.on_intervals(sensor, msg)
            finally:  # loaded for this message only
                drop("sensor_setup")
    return None


def drop(leaf):
    # Unloads a module of this package (imported on demand, dropped after use)
    package = "pysmartnode.utils.component"
    sys.modules.pop(package + "." + leaf, None)
    try:
        delattr(sys.modules[package], leaf)  # the import bound it on the package too
    except (AttributeError, KeyError):  # not bound (MicroPython: KeyError)
        pass
