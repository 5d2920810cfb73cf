"""The rarely used part of the logger (logger.py): set-up, start and stop of the sender, levels,
taps, the clock offset and the last reset reason. Reached as `logger.<name>` (logger.py loads
this module on first use); start-up drops it from sys.modules once the node runs, so the idle
node does not hold these functions. What the watchdog and a crash need (emit, fatal,
record_reset) stays in logger.py: an end of the node must not import.
"""

import asyncio

from pysmartnode.logging import logger as _log

# The levels (logger.py uses the numbers: each name there would be a slot of its module dict)
DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
CRITICAL = 50


def configure(debug=False, queue_len=16, reason_file=None):
    """Sets the node's level (DEBUG on or off), the queue's length and the reset-reason file."""
    _log._level = DEBUG if debug else INFO
    _log._queue_len = queue_len
    if reason_file:
        _log._reason_file = reason_file


def setLevel(logger, level):
    """Logger.setLevel: the logger's own level (0: follow the node's)."""
    logger.level = level


def isEnabledFor(logger, level):
    """Logger.isEnabledFor: whether a message of level would be printed and published."""
    return level >= (logger.level or _log._level)


def set_level(level):
    """Sets the node's level (DEBUG .. CRITICAL); loggers with a level of their own keep it."""
    _log._level = level


def level():
    """The node's level."""
    return _log._level


def tap(callback):
    """callback(level, name, text) runs for every message published from now on (the HTTP
    API's log tail and event stream). It must not raise, block or log. Returns callback;
    untap(callback) removes it."""
    _log._taps += (callback,)
    return callback


def untap(callback):
    taps = _log._taps
    if callback in taps:
        i = taps.index(callback)
        _log._taps = taps[:i] + taps[i + 1 :]


def dropped():
    """How many messages the queue has dropped since start."""
    return _log._dropped


def set_clock_offset(seconds):
    """Seconds added to the clock for printed timestamps (boards keep UTC; see networking.ntp)."""
    _log._clock_offset = seconds


def start(sink, prefix=None, suffix=""):
    """Starts publishing: `await sink(level_name, payload)` for each queued message, in order.

    With prefix, sink is an MQTT handle's publish: `await sink(prefix + level_name + suffix,
    payload, False, 1)` (no closure of the caller's kept: start-up's module is dropped)."""
    stop()
    # One template for the topic, not prefix and suffix apart: a string and a tuple's slot less
    # for as long as the node runs
    topic = None if prefix is None else prefix.replace("%", "%%") + "%s" + suffix.replace("%", "%%")
    _log._sink = (sink, topic)
    if _log._queue:  # messages of the start-up; later ones start a sender themselves (emit)
        _log._sender = asyncio.create_task(_log._send())


def stop():
    """Stops publishing; messages keep queueing (bounded) until start() is called again."""
    _log._sink = None
    if _log._sender is not None:
        _log._sender.cancel()
        _log._sender = None


async def flush(timeout=2):
    """Waits (up to timeout seconds) until the queue is empty, e.g. before a clean stop."""
    waited = 0
    while _log._queue and _log._sink is not None and waited < timeout:
        await asyncio.sleep(0.05)
        waited += 0.05


def last_reset():
    """The reason recorded before the last reset, or None; the record is removed."""
    name = _log._reason_file
    try:
        with open(name) as f:
            reason = f.read()
    except OSError:
        return None
    try:
        import os

        os.remove(name)
    except OSError:
        pass
    return reason
