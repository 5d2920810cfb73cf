"""switches/: GPIO relay, LED, dosing pump in-process on CPython against the fake `machine`
(tests/fakes/machine.py records every pin write in `writes`, raises for pins in `faults`).
The same components run in a unix-port node in test_switches_node.py."""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
def machine(fake_hardware_modules, clean_node):
    m = fake_hardware_modules["machine"]
    m.writes.clear()
    m.faults.clear()
    return m


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def of_pin(machine, pin):
    return [(what, value) for p, what, value in machine.writes if p == pin]


# -- GPIO ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("active_low", "off", "on"), [(False, 0, 1), (True, 1, 0)],
                         ids=["active_high", "active_low"])  # fmt: skip
def test_gpio_starts_at_the_off_level_and_switches_to_the_on_level(machine, active_low, off, on):
    from pysmartnode.components.switches.gpio import GPIO

    async def main():
        relay = GPIO("relay", pin=5, active_low=active_low)
        assert of_pin(machine, 5) == [("out", off)]  # the very first instruction: off
        assert await relay.on() and relay.state() is True
        assert await relay.off() and relay.state() is False

    run(main())
    assert of_pin(machine, 5) == [("out", off), ("level", on), ("level", off)]


def test_gpio_write_that_fails_keeps_the_state_and_is_logged(machine, capsys):
    from pysmartnode.components.switches.gpio import GPIO

    async def main():
        relay = GPIO("relay", pin="5")
        assert await relay.off()
        machine.faults.add(5)
        assert await relay.on() is False
        assert relay.state() is False
        machine.faults.clear()
        assert await relay.on() and relay.state() is True

    run(main())
    assert "relay: turning on failed: OSError" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [{"pin": 5, "active_low": "yes"}, {"pin": 4.5}], ids=["low", "pin"])
def test_gpio_bad_arguments_raise_valueerror(machine, bad):
    from pysmartnode.components.switches.gpio import GPIO

    with pytest.raises(ValueError):
        GPIO("relay", **bad)
    assert machine.writes == []


# -- LED ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("active_low", "dark", "half"), [(False, 0, 32767), (True, 65535, 32768)],
                         ids=["active_high", "active_low"])  # fmt: skip
def test_led_brightness_sets_the_pwm_duty(machine, active_low, dark, half):
    from pysmartnode.components.switches.led import LED

    async def main():
        led = LED("led", pin=2, brightness=50, freq=500, active_low=active_low)
        assert of_pin(machine, 2) == [("out", 0), ("freq", 500), ("duty", dark)]
        machine.writes.clear()
        assert await led.on()
        assert await led.set_brightness(100)
        assert await led.set_brightness(0)  # off, and the brightness is kept for the next ON
        assert led.state() is False and led.brightness() == 100
        assert await led.toggle()

    run(main())
    full = dark ^ 65535
    assert of_pin(machine, 2) == [("duty", half), ("duty", full), ("duty", dark), ("duty", full)]


@pytest.mark.parametrize("bad", [101, -1, 50.5, True, "50"])
def test_led_brightness_out_of_range_raises_and_changes_nothing(machine, bad):
    from pysmartnode.components.switches.led import LED

    async def main():
        led = LED("led", pin=2)
        machine.writes.clear()
        with pytest.raises(ValueError, match="whole percent"):
            await led.set_brightness(bad)
        assert led.brightness() == 100 and led.state() is None

    run(main())
    assert machine.writes == []


def test_led_restored_brightness_waits_for_on_and_a_commanded_one_turns_it_on(machine):
    from pysmartnode.components.switches.led import LED

    async def main():
        led = LED("led", pin=2)
        await led._on_brightness("./led/brightness/set", "30", True)  # restored at start
        assert led.state() is None and led.brightness() == 30
        await led._on_brightness("./led/brightness/set", "60", False)
        assert led.state() is True and led.brightness() == 60

    run(main())
    assert of_pin(machine, 2)[-1] == ("duty", 39321)  # 60 %


def test_led_is_a_light_with_brightness_in_percent(machine):
    from pysmartnode.components.switches.led import LED

    [(object_id, platform, fields)] = LED("desk", pin=2).discovery_entities()
    assert (object_id, platform) == ("desk", "light")
    assert fields["bri_cmd_t"] == "./desk/brightness/set"
    assert fields["bri_stat_t"] == "./desk/brightness"
    assert fields["bri_scl"] == 100


# -- dosing pump --------------------------------------------------------------------------


def pump(**kwargs):
    from pysmartnode.components.switches.dosing_pump import DosingPump

    return DosingPump("dose", **({"pin": 13, "flow": 20, "max_on_time": 5} | kwargs))


async def until_off(p):
    event = p.getStateChangeEvent()
    while p.state():
        event.clear()
        await asyncio.wait_for(event.wait(), 5)


def test_a_dose_runs_the_pump_then_turns_it_off(machine, capsys):
    async def main():
        p = pump()
        assert await p.dose(4)  # 0.2 s at 20 ml/s
        assert p.state() is True and p.dosing() == 4
        await until_off(p)
        assert p.dosing() == 0

    run(main())
    assert of_pin(machine, 13) == [("out", 0), ("level", 1), ("level", 0)]
    assert "dose: dosed 4 ml" in capsys.readouterr().out


@pytest.mark.parametrize("ml", [101, -1, float("nan"), float("inf"), True, "5"])
def test_a_dose_beyond_the_fail_safe_or_not_a_number_is_refused(machine, ml):
    async def main():
        p = pump()  # at most 5 s * 20 ml/s = 100 ml
        with pytest.raises(ValueError):
            await p.dose(ml)
        assert p.state() is None and p.dosing() == 0

    run(main())
    assert of_pin(machine, 13) == [("out", 0)]  # never switched on


def test_a_dose_counts_the_time_the_pump_already_ran(machine):
    async def main():
        p = pump(max_on_time=1)
        assert await p.on()
        await asyncio.sleep(0.3)
        with pytest.raises(ValueError, match="has run"):
            await p.dose(19)  # 0.95 s more would pass 1 s on
        assert await p.dose(4)
        await until_off(p)

    run(main())


def test_a_new_dose_replaces_the_running_one(machine, capsys):
    async def main():
        p = pump()
        assert await p.dose(4)  # 0.2 s
        await asyncio.sleep(0.1)
        assert await p.dose(40)  # the pump stays on, for 2 s from now
        await asyncio.sleep(0.5)  # well past the end of the first dose
        assert p.state() is True and p.dosing() == 40
        assert await p.dose(0)

    run(main())
    out = capsys.readouterr().out
    assert "dose of 4 ml stopped after" in out and ": a new dose of 40 ml" in out
    assert "dosed 4 ml" not in out
    assert of_pin(machine, 13) == [("out", 0), ("level", 1), ("level", 0)]  # no stop between


def test_two_doses_at_once_run_one_after_the_other(machine, capsys):
    async def main():
        p = pump()
        release = asyncio.Event()
        busy = asyncio.create_task(p._queued(release.wait))  # a switch command in progress
        await asyncio.sleep(0)
        doses = asyncio.gather(p.dose(4), p.dose(40))  # both wait for the pump: 0.2 s, then 2 s
        await asyncio.sleep(0.01)
        release.set()
        await busy
        assert await doses == [True, True]
        await asyncio.sleep(0.5)  # well past the end of the first dose
        assert p.state() is True and p.dosing() == 40
        assert await p.dose(0)

    run(main())
    assert "dose of 4 ml stopped after" in capsys.readouterr().out


@pytest.mark.parametrize("stop", ["off", "zero"])
def test_off_or_a_zero_dose_stops_a_dose(machine, capsys, stop):
    async def main():
        p = pump()
        assert await p.dose(80)
        await asyncio.sleep(0.05)
        assert await (p.off() if stop == "off" else p.dose(0))
        assert p.state() is False and p.dosing() == 0
        await asyncio.sleep(0.1)

    run(main())
    assert "dose of 80 ml stopped after" in capsys.readouterr().out
    assert of_pin(machine, 13) == [("out", 0), ("level", 1), ("level", 0)]


def test_a_pump_needs_a_fail_safe_and_a_flow(machine):
    with pytest.raises(ValueError, match="max_on_time"):
        pump(max_on_time=None)
    with pytest.raises(ValueError, match="flow"):
        pump(flow=0)


def test_the_dose_is_a_number_up_to_what_max_on_time_allows(machine):
    entities = pump(flow=1.5, max_on_time=60).discovery_entities()
    assert [(o, p) for o, p, _ in entities] == [("dose", "switch"), ("dose_dose", "number")]
    number = entities[1][2]
    assert (number["min"], number["max"], number["unit_of_meas"]) == (0, 90.0, "mL")


# -- button (machine/button) --------------------------------------------------------------


class Doorbell:
    """A button-like target: counts presses."""

    def __init__(self):
        self.rung = 0
        self.fail = False

    async def press(self):
        if self.fail:
            raise RuntimeError("bell wire cut")
        self.rung += 1


async def until(check, timeout=5.0):
    async def poll():
        while not check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


@pytest.fixture(params=[True, False], ids=["irq", "poll"])
def irq(request):
    """The button's two ways to see the pin: the edge interrupt and polling."""
    return request.param


def button_run(machine, script, **kwargs):
    """Runs a Button on pin 0 (active low) through script(hold), returns (button, relay, bell).
    hold sets the pin as a real one changes: the level, and an edge for the interrupt; then
    waits `seconds`, or (None) until the button has taken the level: a loaded host that stalls
    the process past a set hold made the button miss a press."""
    from pysmartnode.components.machine.button import Button
    from pysmartnode.components.switches.gpio import GPIO

    async def main():
        async def hold(pressed, seconds=None):
            machine.set_input(0, 0 if pressed else 1)
            if seconds is None:
                await until(lambda: button._pressed is pressed)
            else:
                await asyncio.sleep(seconds)

        machine.set_input(0, 1)
        relay, bell = GPIO("relay", pin=5), Doorbell()
        options = {"debounce_ms": 20, "long_ms": 400, "double_ms": 150} | kwargs
        button = Button("button", pin=0, short=relay, long=bell, **options)
        button.start()
        try:
            await script(hold, button)
        finally:
            button.stop()
        return button, relay, bell

    return run(main())


def test_a_short_press_toggles_the_switch(machine, irq):
    async def script(hold, button):
        await hold(True)
        await hold(False)
        await until(lambda: button.presses["short"] == 1)
        await hold(False, 0.2)  # nothing more comes, the toggle is done

    button, relay, bell = button_run(machine, script, irq=irq)
    assert button.presses == {"short": 1, "long": 0, "double": 0}
    assert relay.state() is True and bell.rung == 0


def test_a_long_press_fires_while_held_and_no_short_follows(machine, irq):
    async def script(hold, button):
        await hold(True, 0.1)
        await until(lambda: button._actions[1].rung == 1)
        await hold(True, 0.1)
        await hold(False, 0.4)

    button, relay, bell = button_run(machine, script, irq=irq)
    assert button.presses == {"short": 0, "long": 1, "double": 0}
    assert bell.rung == 1 and relay.state() is None


def test_two_quick_presses_are_one_double_press(machine, irq):
    async def script(hold, button):
        await hold(True)
        await hold(False)
        await hold(True)
        await asyncio.sleep(0.2)  # still held when double_ms has passed since the first release
        await hold(False)
        await until(lambda: button.presses["double"] == 1)
        await hold(False, 0.3)

    button, relay, bell = button_run(machine, script, irq=irq)
    assert button.presses == {"short": 0, "long": 0, "double": 1}
    assert relay.state() is None  # no action for double: only the event


def test_without_doubles_a_short_press_fires_at_release(machine, irq):
    async def script(hold, button):
        for n in (1, 2):
            await hold(True)
            assert button.presses["short"] == n - 1  # not while held
            await hold(False)
            assert button.presses["short"] == n  # fired in the step that took the release
        await until(lambda: button._actions[0].state() is False)

    button, relay, bell = button_run(machine, script, irq=irq, double_ms=0)
    assert button.presses == {"short": 2, "long": 0, "double": 0}
    assert relay.state() is False  # toggled twice


def test_a_glitch_shorter_than_debounce_is_no_press(machine, irq):
    async def script(hold, button):
        for _ in range(3):
            await hold(True, 0.04)  # seen by a few polls, shorter than debounce_ms
            await hold(False, 0.2)

    button, relay, bell = button_run(machine, script, irq=irq, debounce_ms=100, double_ms=0)
    assert button.presses == {"short": 0, "long": 0, "double": 0}


def test_a_slow_action_does_not_make_the_button_miss_presses(machine, irq):
    class Slow:  # a remote switch waiting for its node's answer
        async def toggle(self):
            await asyncio.sleep(0.5)

    async def script(hold, button):
        button._actions = (Slow(), None, None)
        for _ in range(2):
            await hold(True, 0.06)  # the second while the first action still runs
            await hold(False, 0.06)
        await until(lambda: button.presses["short"] == 2, timeout=0.4)

    button, relay, bell = button_run(machine, script, irq=irq, double_ms=0)


def test_a_failing_action_is_logged_and_the_button_goes_on(machine, irq, capsys):
    async def script(hold, button):
        button._actions[1].fail = True  # the bell of the long press
        await hold(True)
        await until(lambda: button.presses["long"] == 1)
        await hold(False)
        await hold(True)
        await hold(False)
        await until(lambda: button._actions[0].state() is True)

    button, relay, bell = button_run(machine, script, irq=irq, double_ms=0)
    assert relay.state() is True
    assert (
        "button: long press action failed: RuntimeError: bell wire cut" in capsys.readouterr().out
    )


def test_with_irq_a_press_comes_only_through_the_edge_interrupt(machine):
    async def script(hold, button):
        await hold(False, 0.1)  # the button read the pin once at start
        machine.inputs[0] = 0  # the level changes, but no edge fires
        await asyncio.sleep(0.6)  # a polled button would have fired a long press by now
        assert button.presses == {"short": 0, "long": 0, "double": 0}
        await hold(True, 0.1)  # the edge of that press
        await hold(False, 0.05)
        await until(lambda: button.presses["short"] == 1)

    button_run(machine, script, irq=True, double_ms=0)


def test_with_irq_the_handler_takes_both_edges_and_stop_removes_it(machine):
    async def script(hold, button):
        assert (0, "irq", machine.IRQ_FALLING | machine.IRQ_RISING) in machine.writes

    machine.writes.clear()
    button_run(machine, script, irq=True)
    assert of_pin(machine, 0)[-1] == ("irq", 0)


def test_without_a_thread_safe_flag_the_button_polls_and_irq_true_is_refused(machine, monkeypatch):
    from pysmartnode.components.machine import button as module

    monkeypatch.setattr(module, "irq_flag", lambda: None)  # a MicroPython build without one
    assert module.Button("b", pin=0)._flag is None
    with pytest.raises(ValueError, match="irq: true, but pin 0 has no interrupts"):
        module.Button("b", pin=0, irq=True)
    with pytest.raises(ValueError, match="irq must be true, false or null"):
        module.Button("b", pin=0, irq="yes")


def test_a_button_action_must_be_a_switch_or_a_button(machine):
    from pysmartnode.components.machine.button import Button

    with pytest.raises(ValueError, match="short must be a switch or a button"):
        Button("button", pin=0, short="relay")
    with pytest.raises(ValueError, match="long_ms"):
        Button("button", pin=0, long_ms=10, debounce_ms=30)


def test_a_button_is_an_event_entity_with_three_types(machine):
    from pysmartnode.components.machine.button import Button

    [(object_id, platform, fields)] = Button("wall", pin=0).discovery_entities()
    assert (object_id, platform, fields["stat_t"]) == ("wall", "event", "./wall")
    assert fields["evt_typ"] == ["short", "long", "double"]


# -- buzzer -------------------------------------------------------------------------------


def buzzer(**kwargs):
    from pysmartnode.components.switches.buzzer import Buzzer

    return Buzzer("buzzer", **({"pin": 15, "volume": 50} | kwargs))


async def until_silent(b):
    await until(lambda: b._beeping is None)


def test_a_beep_plays_the_pattern_then_is_silent(machine):
    async def main():
        b = buzzer(pattern=[0.02, 0.02, 0.02])
        await b.beep()
        await until_silent(b)

    run(main())
    duties = [v for what, v in of_pin(machine, 15) if what == "duty"]
    assert of_pin(machine, 15)[:3] == [("out", 0), ("freq", 2000), ("duty", 0)]
    assert duties[1:] == [16384, 0, 16384, 0]


def test_a_switch_command_stops_a_beep_and_a_beep_while_on_ends_on(machine):
    async def main():
        b = buzzer()
        await b.beep([5])
        await asyncio.sleep(0.02)  # it sounds
        assert await b.on()  # stops the 5 s beep: a continuous tone
        await asyncio.sleep(0.05)
        assert b._beeping is None
        await b.beep([0.02, 0.02])
        await until_silent(b)

    run(main())
    duties = [v for what, v in of_pin(machine, 15) if what == "duty"]
    assert duties == [0, 16384, 16384, 16384, 0, 16384]  # ends as the switch says: on


@pytest.mark.parametrize(
    "pattern", [[], [0.1] * 33, [0], [11], ["0.1"], [True], "0.1"],
    ids=["empty", "long", "zero", "eleven_s", "text", "bool", "str"],
)  # fmt: skip
def test_a_bad_beep_pattern_raises_and_plays_nothing(machine, pattern):
    async def main():
        b = buzzer()
        machine.writes.clear()
        with pytest.raises(ValueError, match="pattern"):
            await b.beep(pattern)

    run(main())
    assert machine.writes == []


def test_a_beep_that_fails_is_logged(machine, capsys):
    async def main():
        b = buzzer()
        machine.faults.add(15)
        await b.beep()
        await until_silent(b)

    run(main())
    assert "buzzer: beep failed: OSError" in capsys.readouterr().out


# -- NeoPixel -----------------------------------------------------------------------------


def strip(**kwargs):
    from pysmartnode.components.switches.neopixel import NeoPixel

    return NeoPixel("shelf", **({"pin": 4, "count": 2, "color": [255, 160, 60]} | kwargs))


def pixels(machine):
    return [v for what, v in of_pin(machine, 4) if what == "pixels"]


def test_a_neopixel_starts_dark_and_shows_its_colour_at_its_brightness(machine):
    async def main():
        s = strip(brightness=50)
        assert pixels(machine) == ["0,0,0;0,0,0"]  # dark from the start
        assert await s.on()
        assert await s.set_color([0, 0, 200])
        assert await s.set_brightness(100)
        assert await s.off()

    run(main())
    assert pixels(machine) == [
        "0,0,0;0,0,0",
        "127,80,30;127,80,30",
        "0,0,100;0,0,100",
        "0,0,200;0,0,200",
        "0,0,0;0,0,0",
    ]


@pytest.mark.parametrize("payload", ["0,0", "0,0,256", "red", "1,2,3,4", "-1,0,0", ""])
def test_a_bad_colour_is_logged_and_changes_nothing(machine, capsys, payload):
    async def main():
        s = strip()
        await s._on_rgb("./shelf/rgb/set", payload, False)
        assert s.color() == (255, 160, 60) and s.state() is None

    run(main())
    assert pixels(machine) == ["0,0,0;0,0,0"]
    assert "shelf: ignored colour" in capsys.readouterr().out


def test_a_colour_over_mqtt_turns_it_on_and_a_restored_one_waits_for_on(machine):
    async def main():
        s = strip(brightness=100)
        await s._on_rgb("./shelf/rgb/set", "10,20,30", True)  # restored: no light yet
        assert s.state() is None and s.color() == (10, 20, 30)
        await s._on_rgb("./shelf/rgb/set", "1,2,3", False)
        assert s.state() is True

    run(main())
    assert pixels(machine) == ["0,0,0;0,0,0", "1,2,3;1,2,3"]


def test_a_neopixel_is_a_light_with_rgb_and_brightness(machine):
    [(object_id, platform, fields)] = strip().discovery_entities()
    assert (object_id, platform) == ("shelf", "light")
    assert (fields["rgb_cmd_t"], fields["rgb_stat_t"]) == ("./shelf/rgb/set", "./shelf/rgb")
    assert fields["bri_cmd_t"] == "./shelf/brightness/set"


def test_a_neopixel_write_that_fails_keeps_the_state(machine, capsys):
    async def main():
        s = strip()
        machine.faults.add(4)
        assert await s.on() is False and s.state() is None

    run(main())
    assert "shelf: turning on failed: OSError" in capsys.readouterr().out
