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
    from pysmartnode.utils.component import switch as module

    return await module._queued(switch, _toggle, switch)  # decided and done in one turn: no race


async def _toggle(switch):
    return await switch._switch(not switch._state)


async def _on(switch):
    """The hook a switch implements: switch the hardware on; return True on success."""
    raise NotImplementedError("%s has no _on()" % type(switch).__name__)


async def _off(switch):
    """The hook a switch implements: switch the hardware off; return True on success."""
    raise NotImplementedError("%s has no _off()" % type(switch).__name__)


async def _queued(switch, func, *args):
    """Runs `await func(*args)` in the switch's turn: commands one at a time, in order."""
    from pysmartnode.utils.component import switch as module

    return await module._queued(switch, func, *args)


def _publish_soon(switch):
    """Publishes the state now, or discovery's state pass does."""
    from pysmartnode.utils.component import switch as module

    module._publish_soon(switch)
