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


def test_climate_stopped_leaves_the_output_off(parts):
    async def main():
        c, sensor, heater, _ = climate(parts, mode="heat")
        sensor.next = 15
        await c.step()
        assert heater.state() is True
        c.stop()
        for _ in range(10):  # the switch-off task runs at the next turns of the loop
            await asyncio.sleep(0)
        assert heater.state() is False

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


# -- displays -----------------------------------------------------------------------------


@pytest.fixture
def bus(parts):
    """The fake I2C bus on pins 21/22 (fresh chips) and fake_chips, faults cleared after."""
    import fake_chips

    from pysmartnode import node
    from pysmartnode.platform.hardware import i2c

    node.parts.pop("buses", None)
    yield i2c(21, 22)
    fake_chips.FAULTS.clear()
    node.parts.pop("buses", None)


def display(parts, kind, values, **kwargs):
    """An SSD1306 or LCD1602 showing sensors that read `values` (None: no reading)."""
    from pysmartnode.components.devices.lcd1602 import LCD1602
    from pysmartnode.components.devices.ssd1306 import SSD1306

    thermometer, _ = parts
    sensors = []
    for i, value in enumerate(values):
        sensors.append(thermometer("t%d" % i))
        sensors[-1].next = value
    cls = SSD1306 if kind == "ssd1306" else LCD1602
    return cls("screen", sda=21, scl=22, sensors=sensors, **kwargs)


def test_ssd1306_initialises_and_sends_the_frame_page_by_page(parts, bus):
    oled = display(parts, "ssd1306", [20.0])
    run(oled.refresh())  # CPython: the frame is drawn by ssd1306_frame (test_devices_oled.py)
    chip = bus._chips[60]
    assert chip.on and chip.charge_pump and chip.addressing == 2
    oled._buffer[:] = bytes(range(256)) * 4  # every column of every page distinct
    oled.show()
    assert chip.ram == oled._buffer


def test_lcd1602_shows_the_labelled_values_on_its_two_lines(parts, bus):
    lcd = display(parts, "lcd", [21.456, None], labels=["Air", "Water"], decimals=2)
    run(lcd.refresh())
    chip = bus._chips[39]
    assert chip.four_bit and chip.two_lines and chip.backlight
    assert chip.screen() == ["Air 21.46       ", "Water --        "]
    lcd._lines[1][0].next = 7  # the next rewrite replaces the whole line
    lcd._lines[0] = (lcd._lines[0][0], "temperature", "A label longer than 16")
    run(lcd.refresh())
    assert chip.screen() == ["A label longer t", "Water 7.00      "]


@pytest.mark.parametrize(("kind", "address", "init"), [("ssd1306", 60, 0xAF), ("lcd", 39, 0x0C)],
                         ids=["ssd1306", "lcd"])  # fmt: skip
def test_absent_display_is_logged_once_per_streak_and_initialised_again(
    parts, bus, kind, address, init, capsys
):
    import fake_chips

    screen = display(parts, kind, [20.0])
    run(screen.refresh())
    chip = bus._chips[address]
    history = chip.commands if kind == "ssd1306" else chip.instructions
    assert history.count(init) == 1
    fake_chips.FAULTS["i2c:%d" % address] = "enodev"
    for _ in range(3):
        run(screen.refresh())  # no raise: logged
    del fake_chips.FAULTS["i2c:%d" % address]
    run(screen.refresh())
    assert history.count(init) == 2  # the display may have lost power: initialised again
    out = capsys.readouterr().out
    assert out.count("screen: display at %d does not answer" % address) == 1, out
    assert "screen: display answers again" in out


@pytest.mark.parametrize("kind", ["ssd1306", "lcd"])
@pytest.mark.parametrize(
    "bad",
    [{"sensors": []}, {"sensors": ["t0"]}, {"labels": ["a", "b"]}, {"sensor_types": ["humidity"]},
     {"address": 200}, {"interval": 0}],
    ids=["empty", "not-a-ref", "labels", "type", "address", "interval"],
)  # fmt: skip
def test_display_bad_arguments_raise_valueerror(parts, bus, kind, bad):
    from pysmartnode.components.devices.lcd1602 import LCD1602
    from pysmartnode.components.devices.ssd1306 import SSD1306

    thermometer, _ = parts
    args = {"sda": 21, "scl": 22, "sensors": [thermometer("t0")]} | bad
    with pytest.raises(ValueError):
        (SSD1306 if kind == "ssd1306" else LCD1602)("screen", **args)


def test_a_list_of_references_builds_a_list_of_components(bus, clean_node):
    from pysmartnode.utils import registry

    remote = {"package": ".sensors.remote", "component": "RemoteSensor"}
    components = {
        "oled": {"package": ".devices.ssd1306", "component": "SSD1306", "constructor_args": {
            "sda": 21, "scl": 22, "sensors": [{"ref": "a1"}, {"ref": "a2"}]}},
        "a1": dict(remote, constructor_args={"topic": "home/x/a1"}),
        "a2": dict(remote, constructor_args={"topic": "home/x/a2"}),
    }  # fmt: skip
    built = asyncio.run(registry.build(components, start=False))
    assert not clean_node.failed, clean_node.failed
    assert [line[0] for line in built["oled"]._lines] == [built["a1"], built["a2"]]
