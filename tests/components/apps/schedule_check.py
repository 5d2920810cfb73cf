# The shared sensor scheduler (utils/component/sensor_base.py) without a broker, on either
# runtime: one JSON line per check, {"check": name, "got": value}; tests/components/
# test_schedule.py compares them. Every wait is bounded (until()); no check measures time.
import asyncio
import json
import sys

from pysmartnode.logging import logger
from pysmartnode.utils.component import ComponentSensor
from pysmartnode.utils.component.sensor_base import SensorBase, join

LOGGED = []
logger.tap(lambda level, name, text: LOGGED.append("%s: %s" % (name, text)))


def report(name, got):
    print(json.dumps({"check": name, "got": got}))


async def until(condition, timeout=5):
    # True once condition() holds, False after timeout seconds (a bounded wait)
    for _ in range(int(timeout * 100)):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


class Probe(ComponentSensor):
    """Counts its readings; a reading waits for `gate` (an Event) when one is set, or `delay`."""

    def __init__(self, name, delay=0, **kwargs):
        super().__init__(name, **kwargs)
        self._add_sensor_type("v", state_class="")
        self.reads = 0
        self.delay = delay
        self.gate = None

    async def _read(self):
        self.reads += 1
        if self.gate is not None:
            await self.gate.wait()
        elif self.delay:
            await asyncio.sleep(self.delay)
        self._set_value("v", self.reads)


class Crashing(Probe):
    """Its scheduled run raises outside _read (as a broken filter or subclass would)."""

    async def _read_now(self):
        self.reads += 1
        raise RuntimeError("broken run %d" % self.reads)


def start(*sensors):
    for s in sensors:
        join(s)  # what start() does after subscribing (no broker here)


def stop(*sensors):
    for s in sensors:
        s.stop()


async def slow_does_not_delay_fast():
    # While one reading of `slow` hangs, `fast` keeps its interval
    slow = Probe("slow", interval_reading=0.05, interval_publish=0.05)
    slow.gate = asyncio.Event()
    fast = Probe("fast", interval_reading=0.05, interval_publish=0.05)
    start(slow, fast)
    ok = await until(lambda: fast.reads >= 5)
    got = [ok, slow.reads]
    slow.gate.set()  # released: it reads again at once (its next reading was due long ago)
    got.append(await until(lambda: slow.reads >= 3))
    stop(slow, fast)
    report("slow_does_not_delay_fast", got)


async def overrun_catches_up():
    # A lone sensor whose reading outlasts its interval reads again right after each reading
    s = Probe("overrun", delay=0.1, interval_reading=0.02, interval_publish=0.02)
    start(s)
    ok = await until(lambda: s.reads >= 4)
    stop(s)
    report("overrun_catches_up", ok)


async def crash_is_logged_backs_off_and_spares_the_others():
    bad = Crashing("bad", interval_reading=0.05, interval_publish=0.05)
    good = Probe("good", interval_reading=0.05, interval_publish=0.05)
    del LOGGED[:]
    start(bad, good)
    ok = await until(lambda: bad.reads >= 2, 8)  # tried again after 1 s, then 2 s
    tries = bad.reads
    good_reads = good.reads
    lines = [x for x in LOGGED if x.startswith("bad: ")]
    stop(bad, good)
    backoffs = [x.split("next in ")[-1] for x in lines]
    # between the first two tries (1 s apart) the good one read many times
    report("crash", [ok, tries, good_reads >= 5, backoffs[:2]])


async def new_intervals_take_effect_now():
    s = Probe("retimed", interval_reading=30, interval_publish=30)
    start(s)
    first = await until(lambda: s.reads == 1)
    s.set_intervals(0.05, 0.05)  # the scheduler slept for 30 s: it must not any more
    again = await until(lambda: s.reads >= 4)
    stop(s)
    report("new_intervals", [first, again])


async def stop_ends_the_sensor_and_the_last_the_task():
    a = Probe("a", interval_reading=0.05, interval_publish=0.05)
    b = Probe("b", interval_reading=0.05, interval_publish=0.05)
    start(a, b)
    await until(lambda: a.reads >= 2 and b.reads >= 2)
    stop(a)
    after = a.reads
    more = await until(lambda: b.reads >= after + 5)
    still = a.reads == after
    alive = SensorBase._scheduler is not None
    stop(b)
    await asyncio.sleep(0.1)
    report("stop", [more, still, alive, SensorBase._scheduler is None, SensorBase._sensors])


async def joins_and_wakes_keep_one_task():
    # Sensors joining one after the other (the registry yields between them) and a new interval
    # waking the sleeping scheduler all use the one task, which the last stop ends
    sensors = [Probe("j%d" % i, interval_reading=30, interval_publish=30) for i in range(5)]
    tasks = []
    for s in sensors:
        join(s)
        await asyncio.sleep(0)
        tasks.append(SensorBase._scheduler)
    read = await until(lambda: all(s.reads == 1 for s in sensors))
    sensors[0].set_intervals(0.05, 0.05)  # the scheduler sleeps for 30 s: woken, not replaced
    again = await until(lambda: sensors[0].reads >= 3)
    same = all(t is tasks[0] for t in tasks + [SensorBase._scheduler])
    stop(*sensors)
    await asyncio.sleep(0.1)
    ended = tasks[0] is not None and tasks[0].done()
    report("one_task", [read, again, same, ended, SensorBase._scheduler is None])


async def one_run_started_per_turn():
    # Five sensors falling due together: their runs start a loop turn apart, so readings that
    # do not wait never run side by side (each run's task and frames are made in turn)
    sensors = [Probe("t%d" % i, interval_reading=30, interval_publish=30) for i in range(5)]
    busy = []

    def counting(sensor):
        async def _read():  # no wait: the whole run happens in one step of its task
            busy.append(sum(1 for s in sensors if s._busy is not None))
            sensor.reads += 1
            sensor._set_value("v", sensor.reads)

        return _read

    for s in sensors:
        s._read = counting(s)
    start(*sensors)  # all due now
    read_all = await until(lambda: all(s.reads == 1 for s in sensors))
    stop(*sensors)
    await asyncio.sleep(0.1)
    report("one_run_per_turn", [read_all, busy])


async def on_demand_only_needs_no_task():
    s = Probe("demand", interval_reading=-1, interval_publish=-1)
    start(s)
    await asyncio.sleep(0.1)
    idle = SensorBase._scheduler is None and s.reads == 0
    value = await s.getValue("v")
    stop(s)
    report("on_demand", [idle, value])


async def one_pair_of_interval_subscriptions():
    # Every sensor's intervals go through one pair of subscriptions of the node's real MQTT
    # handle (never connected here): messages enter where the broker's would (_dispatch)
    from pysmartnode import node
    from pysmartnode.networking.mqtt import MQTTHandle

    mqtt = node.mqtt = MQTTHandle("dev", home="home", server="127.0.0.1")
    sensors = [Probe(n, interval_reading=-1, interval_publish=-1) for n in ("a", "b", "c")]
    for s in sensors:
        s.start()
    subs = mqtt._subs  # flat: filter, callback, flags per subscription (mqtt_subs.py)
    filters = sorted(subs[i].decode() for i in range(0, len(subs), 3))
    mqtt._dispatch(b"home/dev/b/interval/set", b'{"reading": 5, "publish": 10}', False)
    mqtt._dispatch(b"home/dev/a/interval", b'{"reading": 7, "publish": 7}', True)  # restore
    mqtt._dispatch(b"home/dev/c/interval", b'{"reading": 9, "publish": 9}', False)  # an echo
    mqtt._dispatch(b"home/dev/nobody/interval/set", b'{"reading": 9, "publish": 9}', False)
    intervals = [list(s.intervals) for s in sensors]
    for s in sensors:
        s.stop()
    report("interval_subscriptions", [filters, intervals, len(mqtt._subs) // 3])
    node.mqtt = None


async def main():
    await slow_does_not_delay_fast()
    await overrun_catches_up()
    await crash_is_logged_backs_off_and_spares_the_others()
    await new_intervals_take_effect_now()
    await stop_ends_the_sensor_and_the_last_the_task()
    await joins_and_wakes_keep_one_task()
    await one_run_started_per_turn()
    await on_demand_only_needs_no_task()
    await one_pair_of_interval_subscriptions()


asyncio.run(main())
sys.exit(0)
