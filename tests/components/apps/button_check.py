# Runs machine/button's press scenarios on the fake pin (tests/fakes, argv[1]) through both ways
# of seeing the pin, the edge interrupt and polling, on either runtime, without a broker. Prints
# one JSON line per check: {"check": "<scenario>-<irq|poll>", "got": presses or reads}.
# tests/components/test_button.py compares them.
import sys

sys.path.append(sys.argv[1])  # tests/fakes: after the port's own modules (machine is extensible)

import asyncio
import json

import machine

from pysmartnode.components.machine.button import Button

P, R = True, False  # pressed, released
CHATTER = [(P, 0.004), (R, 0.004)] * 3  # a contact bouncing for ~24 ms
# name: (button options, holds (pressed, seconds), presses to wait for)
SCENARIOS = (
    ("short", {}, [(P, 0.1), (R, 0.05)], 1),
    ("long", {}, [(P, 0.6), (R, 0.05)], 1),
    ("double", {}, [(P, 0.06), (R, 0.06), (P, 0.25), (R, 0.06)], 1),
    ("no_double", {"double_ms": 0}, [(P, 0.06), (R, 0.06)] * 2, 2),
    ("glitch", {"debounce_ms": 100, "double_ms": 0}, [(P, 0.04), (R, 0.2)] * 3, 0),
    ("bounce", {"double_ms": 0}, CHATTER + [(P, 0.1)] + CHATTER + [(R, 0.1)], 1),
)


def report(name, got):
    print(json.dumps({"check": name, "got": got}))


async def hold(pressed, seconds):
    machine.set_input(0, 0 if pressed else 1)  # the level, and its edge for the interrupt
    await asyncio.sleep(seconds)


def make(irq, options):
    settings = {"debounce_ms": 20, "long_ms": 400, "double_ms": 150}
    settings.update(options)
    return Button("button", pin=0, irq=irq, **settings)


async def scenario(irq, options, holds, wanted):
    machine.set_input(0, 1)
    button = make(irq, options)
    button.start()
    try:
        await asyncio.sleep(0.05)  # the button's first look at the pin
        for pressed, seconds in holds:
            await hold(pressed, seconds)
        for _ in range(300):  # up to 3 s for the presses due
            if sum(button.presses.values()) >= wanted:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # anything more would come now
        return dict(button.presses)
    finally:
        button.stop()


async def quiet_reads(irq):
    # how often the pin is read while a press is held without an edge
    machine.set_input(0, 1)
    button = make(irq, {"long_ms": 1000, "double_ms": 0})
    button.start()
    try:
        await hold(P, 0.1)
        before = machine.reads.get(0, 0)
        await hold(P, 0.2)
        return machine.reads.get(0, 0) - before
    finally:
        button.stop()


async def main():
    for irq, path in ((True, "irq"), (False, "poll")):
        for name, options, holds, wanted in SCENARIOS:
            report("%s-%s" % (name, path), await scenario(irq, options, holds, wanted))
        report("quiet_reads-%s" % path, await quiet_reads(irq))


asyncio.run(main())
