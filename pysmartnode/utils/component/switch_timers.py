"""A switch's fail-safes: `max_on_time` and `offline_off` (ComponentSwitch, switch.py).

Loaded only by a switch that has one of them set, so a node whose switches have none holds none
of these functions (each def costs a function object on MicroPython, frozen code too).
"""

import asyncio


def rearm(switch, state):
    """After a switch to `state`: a max_on_time timer starts again (on) or ends (off)."""
    cancel(switch)
    if state and switch._max_on_time:
        switch._timer = asyncio.create_task(_expire(switch))


def cancel(switch):
    timer = switch._timer
    if timer is not None and timer is not _current():
        timer.cancel()
    switch._timer = None


def stop(switch):
    """Ends both timers (ComponentSwitch.stop)."""
    cancel(switch)
    if switch._offline_timer is not None:
        switch._offline_timer.cancel()
        switch._offline_timer = None


def watch_link(switch):
    """offline_off: the switch turns off after that many seconds without the broker."""

    def on_link(up):
        if up:
            if switch._offline_timer is not None:
                switch._offline_timer.cancel()
                switch._offline_timer = None
        elif switch._offline_timer is None:
            switch._offline_timer = asyncio.create_task(_offline(switch))

    switch._mqtt.on_link(on_link)


async def _expire(switch):
    await asyncio.sleep(switch._max_on_time)
    await switch._queued(_auto_off, switch, False)


async def _offline(switch):
    await asyncio.sleep(switch._offline_off)
    switch._offline_timer = None
    await switch._queued(_auto_off, switch, True)


async def _auto_off(switch, offline):
    # in its turn: max_on_time is over (an `on` meanwhile cancelled this), or offline_off
    if offline:
        if switch._state or switch._state is None:
            await switch._switch(False, "broker unreachable for %s s" % switch._offline_off)
    else:
        switch._timer = None
        if switch._state:
            await switch._switch(False, "on for max_on_time (%s s)" % switch._max_on_time)


def _current():
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None
