"""A switch's rarely used methods (ComponentSwitch._rare, switch.py): switch.<name>(...) calls
<name>(switch, ...) here. Loaded for each call and dropped after it (ComponentBase.__getattr__),
so a node whose switches never hear a TOGGLE holds none of these function objects.
"""

import asyncio


def state(switch):
    """True (on), False (off) or None (unknown: not switched or restored yet)."""
    return switch._state


def topic(switch):
    """The state topic (device form); commands go to topic() + "/set"."""
    return switch._topic


def getStateChangeEvent(switch):
    """An asyncio.Event set on every change of state (the consumer clears it)."""
    if switch._event is None:
        switch._event = asyncio.Event()
    return switch._event


async def toggle(switch):
    """Turns off if on, else on; returns True if it switched."""
    return await switch._queued(_toggle, switch)  # decided and done in one turn: no race


async def _toggle(switch):
    return await switch._switch(not switch._state)


async def _on(switch):
    """The hook a switch implements: switch the hardware on; return True on success."""
    raise NotImplementedError("%s has no _on()" % type(switch).__name__)


async def _off(switch):
    """The hook a switch implements: switch the hardware off; return True on success."""
    raise NotImplementedError("%s has no _off()" % type(switch).__name__)
