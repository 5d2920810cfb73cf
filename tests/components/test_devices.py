"""devices/: the climate controller, the SSD1306 and LCD1602 displays, in-process on CPython
against the fakes (tests/fakes/fake_chips.py records what the displays were sent). The same
components run in one unix-port node in test_devices_node.py."""

from __future__ import annotations

import asyncio

import pytest


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


@pytest.fixture
def parts(fake_hardware_modules, clean_node):
    """A settable temperature sensor and a switch that records what it was told."""
    from pysmartnode.utils.component import ComponentSensor, ComponentSwitch

    class Thermometer(ComponentSensor):
        def __init__(self, name, **kwargs):
            super().__init__(name, interval_reading=-1, interval_publish=-1, **kwargs)
            self._add_sensor_type("temperature")
            self.next = None  # the next reading; None fails it

        async def _read(self):
            if self.next is None:
                raise OSError("no answer")
            self._set_value("temperature", self.next)

    class Switch(ComponentSwitch):
        def __init__(self, name, **kwargs):
            super().__init__(name, **kwargs)
            self.calls = []

        async def _on(self):
            self.calls.append("on")
            return True

        async def _off(self):
            self.calls.append("off")
            return True

    return Thermometer, Switch


def climate(parts, **kwargs):
    from pysmartnode.components.devices.climate import Climate

    thermometer, switch = parts
    sensor, heater, cooler = thermometer("air"), switch("heater"), switch("cooler")
    args = {"sensor": sensor, "heater": heater, "cooler": cooler, "target": 21,
            "hysteresis": 0.5} | kwargs  # fmt: skip
    return Climate("room", **args), sensor, heater, cooler


# -- climate ------------------------------------------------------------------------------

# temperatures in turn, and the output state after each: on below 20.5, off above 21.5
HEAT = [(20.4, True), (21.0, True), (21.5, True), (21.6, False), (21.0, False), (20.5, False),
        (20.4, True)]  # fmt: skip
COOL = [(21.6, True), (21.0, True), (20.5, True), (20.4, False), (21.0, False), (21.5, False),
        (21.6, True)]  # fmt: skip


@pytest.mark.parametrize(("mode", "steps"), [("heat", HEAT), ("cool", COOL)], ids=["heat", "cool"])
def test_climate_switches_with_hysteresis_around_the_target(parts, mode, steps):
    async def main():
        c, sensor, heater, cooler = climate(parts, mode=mode)
        output, other = (heater, cooler) if mode == "heat" else (cooler, heater)
        for temperature, on in steps:
            sensor.next = temperature
            await c.step()
            assert output.state() is on, (temperature, on)
            assert other.state() is not True
            assert c.action == ("heating" if mode == "heat" else "cooling") if on else "idle"

    run(main())


def test_climate_mode_off_turns_the_output_off(parts):
    async def main():
        c, sensor, heater, _ = climate(parts, mode="heat")
        sensor.next = 15
        await c.step()
        assert heater.state() is True
        assert c._on_mode("./room/mode/set", "off", False) is True
        await c.step()
        assert heater.state() is False and c.action == "off"

    run(main())


def test_climate_failed_sensor_turns_the_output_off_and_logs_once_per_streak(parts, capsys):
    async def main():
        c, sensor, heater, _ = climate(parts, mode="heat")
        sensor.next = 15
        await c.step()
        assert heater.state() is True
        sensor.next = None  # the on-demand reading fails from now on
        for _ in range(3):
            await c.step()
            assert heater.state() is False and c.action == "off"
        sensor.next = 15
        await c.step()
        assert heater.state() is True

    run(main())
    out = capsys.readouterr().out
    assert out.count("room: no reading of air") == 1, out


def test_climate_stale_reading_turns_the_output_off(parts):
    async def main():
        from pysmartnode.utils.component import ComponentSensor

        class Polled(ComponentSensor):  # read on its own interval: getValue gives the last
            def __init__(self, name):
                super().__init__(name, interval_reading=60, interval_publish=60)
                self._add_sensor_type("temperature")
                self.reads = 0

            async def _read(self):
                self.reads += 1
                if self.reads > 1:  # its loop is not running here; a re-read fails
                    raise OSError("no answer")
                self._set_value("temperature", 15)

        sensor = Polled("air")
        c, _, heater, _ = climate(parts, mode="heat", sensor=sensor, stale=0.05)
        await c.step()  # no value yet: getValue reads it now
        assert heater.state() is True
        await asyncio.sleep(0.1)  # the reading is now older than stale: read again, fails
        await c.step()
        assert heater.state() is False and c.action == "off" and sensor.reads == 2

    run(main())


@pytest.mark.parametrize(
    ("topic", "payload", "echo"),
    [("mode", "cool", True), ("mode", "dry", None), ("mode", "", None), ("target", "22.25", "22.2"),
     ("target", "99", None), ("target", "nan", None), ("target", "warm", None),
     ("target", "x" * 100000, None)],
    ids=["mode", "mode-unknown", "mode-empty", "target", "target-range", "target-nan",
         "target-text", "target-huge"],
)  # fmt: skip
def test_climate_commands_are_checked_and_echoed(parts, topic, payload, echo, capsys):
    c, *_ = climate(parts)
    before = (c.mode, c.target)
    callback = c._on_mode if topic == "mode" else c._on_target
    assert callback("./room/%s/set" % topic, payload, False) == echo
    if echo is None:
        assert (c.mode, c.target) == before
        assert "room: ignored %s" % topic in capsys.readouterr().out
    else:
        assert (c.mode, c.target) != before


@pytest.mark.parametrize(
    "bad",
    [{"sensor": "air"}, {"heater": None, "cooler": None}, {"heater": "relay"},
     {"target": 50}, {"hysteresis": -1}, {"mode": "auto"}, {"min_temp": 30, "max_temp": 10},
     {"interval": 0}, {"sensor_type": "humidity"}],
    ids=["sensor", "no-output", "heater", "target", "hysteresis", "mode", "limits", "interval",
         "type"],
)  # fmt: skip
def test_climate_bad_arguments_raise_valueerror(parts, bad):
    with pytest.raises(ValueError):
        climate(parts, **bad)


def test_climate_announces_a_climate_entity_with_the_modes_it_can_do(parts):
    c, _, heater, _ = climate(parts, cooler=None)
    ((object_id, platform, fields),) = c.discovery_entities()
    assert (object_id, platform, fields["modes"]) == ("room", "climate", ["off", "heat"])
    assert fields["temp_cmd_t"] == "./room/target/set" and fields["curr_temp_t"] == "./room/current"
