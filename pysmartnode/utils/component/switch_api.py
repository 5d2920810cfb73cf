"""A switch's constructor and rarely used methods (ComponentSwitch._rare, switch.py):
switch.<name>(...) calls <name>(switch, ...) here. Loaded for each call and dropped after it
(ComponentBase.__getattr__; the registry drops it after the build), so a node whose switches
never hear a TOGGLE holds none of these function objects.
"""

import asyncio


def init(switch, name, restore="restore", max_on_time=None, offline_off=None, discover=True,
         friendly_name=None):  # fmt: skip
    """ComponentSwitch.__init__ (its docstring says what each argument does). The registry
    drops this module after the build."""
    from pysmartnode.utils.component.base import ComponentBase

    ComponentBase.__init__(switch, name, discover, friendly_name)
    if restore not in ("restore", "off", "on"):
        raise ValueError("restore must be 'restore', 'off' or 'on', got %r" % (restore,))
    for key, value in (("max_on_time", max_on_time), ("offline_off", offline_off)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or value <= 0):  # fmt: skip
            raise ValueError("%s must be seconds > 0 or None, got %r" % (key, value))
    if restore != "restore":
        switch._restore = restore
    if max_on_time is not None:
        switch._max_on_time = max_on_time
    if offline_off is not None:
        switch._offline_off = offline_off


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
