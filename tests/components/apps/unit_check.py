# Runs the base classes without a broker on either runtime and prints one JSON line per check:
# {"check": name, "got": value}. tests/components/test_base_units.py compares them.
import asyncio
import json
import sys

from pysmartnode.utils.component import ComponentSensor, ComponentSwitch


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
    try:
        Slow("bad name")
        report("bad_name", None)
    except ValueError:
        report("bad_name", "ValueError")


asyncio.run(main())
sys.exit(0)
