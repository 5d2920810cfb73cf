"""machine/wifi_led: the status LED as a component, in-process on CPython against the fake
`machine` (every pin write recorded with its time), a real mosquitto and the node's real MQTT
handle. The broker is stopped and started again; the LED's flashes follow."""

from __future__ import annotations

import asyncio

import pytest

PIN = 2
LONG_S = 0.4  # a disconnected flash is lit 0.5 s (a sleep never ends early)
QUICK_S = 0.3  # a connected flash is lit 0.05 s or 0.02 s


@pytest.fixture
def machine(fake_hardware_modules, clean_node):
    m = fake_hardware_modules["machine"]
    m.writes.clear()
    m.stamps.clear()
    m.faults.clear()
    return m


def flashes(machine, after=0):
    """Seconds each flash of the LED (active high) was lit, from write number `after` on."""
    lit, out = None, []
    for i in range(after, len(machine.writes)):
        pin, what, value = machine.writes[i]
        if pin != PIN or what != "level":
            continue
        if value == 1 and lit is None:
            lit = machine.stamps[i]
        elif value == 0 and lit is not None:
            out.append((machine.stamps[i] - lit) / 1000)
            lit = None
    return out


async def until(check, timeout=20.0):
    async def poll():
        while not check():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


def test_the_led_blinks_quick_while_the_broker_is_up_and_long_while_it_is_away(
    machine, clean_node, mosquitto
):
    from pysmartnode.components.machine.wifi_led import WifiLed
    from pysmartnode.networking.mqtt import MQTTHandle

    async def scenario():
        handle = MQTTHandle("lednode", server=mosquitto.host, port=mosquitto.port)
        clean_node.mqtt = handle
        await handle.connect()
        led = WifiLed("status_led", pin=PIN)
        led.start()  # the broker is up already: the LED knows it at once
        try:
            await until(lambda: len(flashes(machine)) >= 8)  # start, 5 quick, a double flash
            up = flashes(machine)
            mark_down = len(machine.writes)
            await asyncio.to_thread(mosquitto.stop)
            await until(lambda: len(flashes(machine, mark_down)) >= 3)
            down = flashes(machine, mark_down)
            mark_up = len(machine.writes)
            await asyncio.to_thread(mosquitto.start)
            await until(lambda: sum(s < QUICK_S for s in flashes(machine, mark_up)) >= 7)
            back = flashes(machine, mark_up)
        finally:
            led.stop()
            await handle.stop()
        return up, down, back, handle

    up, down, back, handle = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert up[0] >= LONG_S and len(up) == 8 and all(s < QUICK_S for s in up[1:]), up
    assert all(s >= LONG_S for s in down), down  # three long flashes, again every 5 s
    first_quick = next(i for i, s in enumerate(back) if s < QUICK_S)
    assert all(s >= LONG_S for s in back[:first_quick]), back  # the group under way ends
    assert all(s < QUICK_S for s in back[first_quick:]) and len(back) - first_quick == 7, back
    assert handle._link_hooks == []  # stop() took its hook back


@pytest.mark.parametrize(("active_high", "dark"), [(True, 0), (False, 1)], ids=["high", "low"])
def test_stop_turns_the_led_off_and_ends_its_task(machine, active_high, dark):
    from pysmartnode.components.machine.wifi_led import WifiLed

    async def scenario():
        led = WifiLed("status_led", pin=PIN, active_high=active_high)
        assert machine.writes == [(PIN, "out", dark)]  # dark from the first instruction
        led.start()  # no broker (node.mqtt None): the disconnected pattern
        await until(lambda: len(machine.writes) >= 2, timeout=5)  # lit: the start flash
        blinker = led._blinker
        led.stop()
        await asyncio.sleep(0.6)  # past the flash's end: a live task would write again
        return blinker

    blinker = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert blinker._task.done()
    levels = [v for p, what, v in machine.writes if p == PIN and what == "level"]
    assert levels == [1 - dark, dark]


def test_active_high_must_be_a_boolean(machine):
    from pysmartnode.components.machine.wifi_led import WifiLed

    with pytest.raises(ValueError, match="active_high must be true or false"):
        WifiLed("status_led", pin=PIN, active_high="yes")
    assert machine.writes == []
