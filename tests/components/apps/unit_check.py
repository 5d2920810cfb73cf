# Runs the base classes without a broker on either runtime and prints one JSON line per check:
# {"check": name, "got": value}. tests/components/test_base_units.py compares them.
import asyncio
import json
import sys

from pysmartnode.utils.component import ComponentBase, ComponentSensor, ComponentSwitch


def report(name, got):
    print(json.dumps({"check": name, "got": got}))


class Series(ComponentSensor):
    def __init__(self, name, values, **kwargs):
        super().__init__(name, **kwargs)
        self._add_sensor_type("v", state_class="")
        self._values = list(values)
        self.reads = 0

    async def _read(self):
        self.reads += 1
        await asyncio.sleep(0.01)
        value = self._values.pop(0) if self._values else None
        if value == "raise":
            raise OSError("broken")
        self._set_value("v", value)


async def feed(sensor, count):
    out = []
    for _ in range(count):
        await sensor._read_now()
        out.append(sensor._types["v"][2])
    return out


class Slow(ComponentSwitch):
    def __init__(self, name, **kwargs):
        super().__init__(name, **kwargs)
        self.calls = []

    async def _on(self):
        self.calls.append("on")
        await asyncio.sleep(0.01)
        return True

    async def _off(self):
        self.calls.append("off")
        await asyncio.sleep(0.01)
        return True


class Stuck(Series):
    """A reading that waits for `gate`."""

    async def _read(self):
        self.reads += 1
        await self.gate.wait()
        self._set_value("v", self.reads)


async def turns_and_shared_readings():
    # switch: a command cancelled while it waits for its turn, or after it got the turn but
    # before it ran, does not hold up the ones after it
    sw = Slow("queue")
    release = asyncio.Event()
    busy = asyncio.create_task(sw._queued(release.wait))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(sw.on())
    given = asyncio.create_task(sw.on())
    last = asyncio.create_task(sw.off())
    await asyncio.sleep(0)
    waiting.cancel()  # still waiting
    await asyncio.sleep(0)
    release.set()
    await asyncio.sleep(0)  # `busy` ends and gives its turn to `given`, which has not run yet
    given.cancel()
    await busy
    try:
        done = await asyncio.wait_for(last, 5)
    except asyncio.TimeoutError:
        done = "stuck"
    report("cancelled_turns", [done, sw.calls, sw._queue])
    # sensor: a reading cancelled by getValue's timeout lets the caller waiting for it read
    s = Stuck("stuck", [], interval_reading=-1, interval_publish=-1)
    s.gate = asyncio.Event()
    first = asyncio.create_task(s.getValue("v", timeout=0.05))
    await asyncio.sleep(0)
    second = asyncio.create_task(s.getValue("v", timeout=5))
    got = [await first]  # timed out: None
    s.gate.set()
    got.append(await second)
    got.append(s.reads)
    report("cancelled_reading", got)
    # neither made an asyncio.Lock: MicroPython's asyncio then never loads asyncio/lock.py
    report("no_lock", "asyncio.lock" not in sys.modules or sys.implementation.name != "micropython")


class Ticker(ComponentBase):
    def __init__(self, name, **kwargs):
        super().__init__(name, **kwargs)
        self.ticks = 0

    async def _tick(self):
        while True:
            self.ticks += 1
            await asyncio.sleep(0.01)


async def defaults_are_per_instance():
    # Options and state with defaults (base._DEFAULTS, answered by __getattr__): setting one on
    # an instance leaves the others as they were; a task or topic of one is not another's; a
    # name that is no option is still an AttributeError
    quiet = Ticker("quiet", discover=False, friendly_name="Quiet one")
    loud = Ticker("loud")
    quiet._spawn(quiet._tick)
    loud._spawn(loud._tick)
    await asyncio.sleep(0.05)
    quiet.stop()
    before = loud.ticks
    await asyncio.sleep(0.05)
    still = loud.ticks > before
    loud.stop()
    sw = Slow("lamp", max_on_time=5)
    other = Slow("fan")
    sensor = Series("probe", [], retain=True, precision=1)
    plain = Series("plain", [])
    got = [
        still,
        [quiet.discover, quiet.friendly_name, loud.discover, loud.friendly_name],
        [sw._max_on_time, other._max_on_time, sw._topic, other._topic],
        [sensor._retain, plain._retain, sensor._types["v"][0], plain._types["v"][0]],
        [loud._log.name, quiet._log is quiet._log],
        [loud._tasks, plain._tasks, plain._subscriptions, hasattr(plain, "_no_such_option")],
    ]
    report("defaults", got)


class Handle:
    """Stands in for node.mqtt: keeps (topic, callback, restore) as the MQTT handle keeps its
    subscriptions, and removes them the way it does (callbacks compared with ==)."""

    def __init__(self):
        self.subs = []

    def subscribe(self, topic, callback, qos=1, restore_state=False, parse_json=False):
        self.subs.append((topic, callback, restore_state))

    def unsubscribe(self, topic, callback=None):
        self.subs = [s for s in self.subs if not (s[0] == topic and s[1] == callback)]


async def stop_drops_the_command_subscription():
    # A stopped switch leaves no subscription; the other switch keeps its own
    from pysmartnode import node

    node.mqtt, before = Handle(), node.mqtt
    try:
        lamp, fan = Slow("lamp"), Slow("fan", restore="off")
        lamp.start()
        fan.start()
        started = [[s[0], s[2]] for s in node.mqtt.subs]
        lamp.stop()
        after_one = [s[0] for s in node.mqtt.subs]
        fan.stop()
        report("stop_unsubscribes", [started, after_one, [s[0] for s in node.mqtt.subs]])
    finally:
        node.mqtt = before


async def subscriptions_hold_no_object_of_their_own():
    # The node's MQTT handle (never connected) keeps each subscription as three items of one
    # flat list, no list per subscription; a switch subscribes itself as its command callback
    # (no bound method per switch); unsubscribing takes out only that switch's items
    from pysmartnode import node
    from pysmartnode.networking.mqtt import MQTTHandle

    node.mqtt, before = MQTTHandle("dev", home="home", server="127.0.0.1"), node.mqtt
    try:
        lamp, fan = Slow("lamp", restore="off"), Slow("fan", restore="off")
        lamp.start()
        fan.start()
        await asyncio.sleep(0.05)  # restore "off": their first command ran
        subs = node.mqtt._subs
        got = [
            [type(x).__name__ for x in subs if isinstance(x, (list, tuple))],
            [x is lamp for x in subs].count(True),
            [type(x).__name__ for x in subs if type(x).__name__ == "bound_method"],
        ]
        node.mqtt.deliver("./lamp/set", "ON")  # the switch, called as the callback
        await asyncio.sleep(0.05)
        lamp.stop()
        got += [lamp.calls, [x.decode() for x in subs if isinstance(x, bytes)], fan in subs]
        fan.stop()
        got.append(len(subs))
    finally:
        node.mqtt = before
    report("flat_subscriptions", got)


def a_callback_may_change_the_subscriptions_during_a_delivery():
    # Delivery takes the matching subscriptions first: a callback that unsubscribes itself and
    # subscribes another one leaves the others of this message called, the new one not
    from pysmartnode.networking.mqtt import MQTTHandle

    mqtt = MQTTHandle("dev", home="home", server="127.0.0.1")
    calls = []

    def first(topic, msg, retained):
        calls.append("first " + msg)
        mqtt.unsubscribe("./x", first)
        mqtt.subscribe("./x", late)

    def second(topic, msg, retained):
        calls.append("second " + msg)

    def late(topic, msg, retained):
        calls.append("late " + msg)

    mqtt.subscribe("./x", first)
    mqtt.subscribe("./+", second)
    mqtt.deliver("./x", "1")
    mqtt.deliver("./x", "2")
    report("change_during_delivery", calls)


async def instances_keep_only_what_is_there():
    # A started sensor that read and published, and a switch that switched, hold no attribute
    # that is only there for a while (a run, a reading, a publication, a command) nor what
    # __getattr__ answers (_mqtt, the default intervals): an instance's table never shrinks
    sensor = Series("lean", [1, 2, 3])
    sensor.start()
    for _ in range(100):  # the scheduler reads at once; the publication follows (no broker)
        await asyncio.sleep(0.01)
        if sensor.reads and sensor._busy is None and sensor._publishing is None:
            break
    lean = sorted(sensor.__dict__)
    defaults = [sensor._mqtt is None, sensor._interval_reading, sensor._interval_publish]
    sensor.stop()
    sw = Slow("lean_sw")
    await sw.on()
    await sw.toggle()
    report("lean_instances", [lean, defaults, sorted(sw.__dict__), sw.state()])


def class_tables():
    # MicroPython only (CPython's class dicts hold more): the names in the base classes' and the
    # MQTT handle's and its registry's tables (12 and 17 are growth steps: one more name costs
    # 80 B),
    # and the methods that are closures (one using super() is: 32 B more each)
    if sys.implementation.name != "micropython":
        return report("class_tables", None)
    from pysmartnode.components.unix import command_switch, disk, file_switch, load
    from pysmartnode.networking.mqtt import MQTTHandle
    from pysmartnode.networking.mqtt_subs import Subscriptions
    from pysmartnode.utils.component.sensor_base import SensorBase

    classes = (ComponentBase, SensorBase, ComponentSensor, ComponentSwitch, load.CPULoad,
               disk.Disk, file_switch.FileSwitch, command_switch.CommandSwitch)  # fmt: skip
    tables = (
        SensorBase,
        ComponentSensor,
        Subscriptions,
        MQTTHandle,
        ComponentBase,
        ComponentSwitch,
    )
    sizes = [len(c.__dict__) for c in tables]
    closures = []
    for c in classes:
        for name, value in c.__dict__.items():
            if type(value).__name__ == "closure":
                closures.append(c.__name__ + "." + name)
    report("class_tables", [sizes, sorted(closures)])


class Hookless(ComponentSwitch):
    """Implements neither _on nor _off."""


class Unread(ComponentSensor):
    def __init__(self, name):
        super().__init__(name, interval_reading=-1, interval_publish=-1)
        self._add_sensor_type("v", state_class="")


async def rare_methods_are_loaded_per_call():
    # The rarely used methods (a class's _rare, ComponentBase.__getattr__) answer as methods
    # did, on the classes that have them only, and their module is gone after each call
    module = "pysmartnode.utils.component."
    sensor = Series("rare", [4, 5])
    sw = Slow("rare_sw")
    event = sw.getStateChangeEvent()
    got = [
        [sensor.getTopic(), sensor.getTemplate("v"), sensor.intervals, sensor.sensor_types],
        [sw.topic(), sw.state(), event is sw.getStateChangeEvent()],
        [hasattr(sensor, "toggle"), hasattr(sw, "getTopic"), hasattr(sw, "toggle")],
    ]
    changed = sensor.set_intervals(30, 60, retain=False)
    toggled = [await sw.toggle(), sw.state(), event.is_set(), await sw.toggle(), sw.state()]
    got += [[changed, sensor.intervals], toggled]
    got.append([m for m in ("sensor_setup", "switch_api") if module + m in sys.modules])
    errors = [await Hookless("hookless").on(), await Unread("unread").getValue("v")]
    got.append([errors, [m for m in ("sensor_setup", "switch_api") if module + m in sys.modules]])
    report("rare_methods", got)


class Diagnosed(ComponentSensor):
    def __init__(self, name):
        super().__init__(name, filters={"a": [{"linear": [2, 0]}]})
        self._add_sensor_type("a", state_class="", entity_category="diagnostic", name="A one")
        self._add_sensor_type("b", state_class="", entity_category="diagnostic")
        self._add_sensor_type("c", state_class="")

    async def _read(self):
        for t in "abc":
            self._set_value(t, 3)


async def entity_category_and_filters_per_type():
    # A type's entity category and filters (kept beside its record, not in it)
    sensor = Diagnosed("diag")
    await sensor._read_now()
    fields = [(e[0], e[2]["name"], e[2].get("ent_cat")) for e in sensor.discovery_entities()]
    values = [sensor._types[t][2] for t in "abc"]
    report("category_filters", [sorted(fields), values])


async def main():
    s = Series("a", [1, 5, 3, 9, 2], interval_reading=-1, interval_publish=-1,
               filters=[{"median": 3}])  # fmt: skip
    report("median", await feed(s, 5))
    s = Series("b", [2, 4, 6, 8], interval_reading=-1, interval_publish=-1,
               filters=[{"average": 2}, {"linear": [10, 1]}], offset=0.5, precision=1)  # fmt: skip
    report("average_linear_offset", await feed(s, 4))
    s = Series("c", [0, False, None, "raise"], interval_reading=-1, interval_publish=-1)
    got = []
    for _ in range(4):
        ok = await s._read_now()
        got.append([ok, s._types["v"][2]])
    report("zero_false_none_raise", got)
    s = Series("d", [7, 8], interval_reading=-1, interval_publish=-1)
    values = await asyncio.gather(s.getValue("v"), s.getValue("v"), s.getValue("v"))
    report("concurrent_getvalue_one_reading", [values, s.reads])
    s = Series("e", [1.0, 1.2, 1.6, 1.7], interval_reading=1, interval_publish=1,
               filters=[{"delta": 0.5}])  # fmt: skip
    passes = []
    for _ in range(4):
        await s._read_now()
        ok = s._gate.passes(s._types)
        if ok:
            s._gate.published(s._types)
        passes.append(ok)
    report("delta", passes)
    errors = []
    for args in ({"interval_reading": 10, "interval_publish": 5}, {"interval_reading": 0},
                 {"filters": [{"mean": 3}]}, {"filters": [{"median": 0}]},
                 {"filters": [{"max_silence": 5}]}, {"precision": {"v": "x"}}):  # fmt: skip
        try:
            Series("f", [], **args)
            errors.append(None)
        except ValueError as e:
            errors.append(str(e).split(" ")[0])
    report("bad_options", errors)
    sw = Slow("sw")
    results = await asyncio.gather(*[sw.toggle() for _ in range(5)], sw.on(), sw.off())
    report("concurrent_switching", [results, sw.calls, sw.state()])
    await turns_and_shared_readings()
    await defaults_are_per_instance()
    await stop_drops_the_command_subscription()
    await subscriptions_hold_no_object_of_their_own()
    a_callback_may_change_the_subscriptions_during_a_delivery()
    await instances_keep_only_what_is_there()
    class_tables()
    await rare_methods_are_loaded_per_call()
    await entity_category_and_filters_per_type()
    try:
        Slow("bad name")
        report("bad_name", None)
    except ValueError:
        report("bad_name", "ValueError")


asyncio.run(main())
sys.exit(0)
