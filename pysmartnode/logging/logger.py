"""Logging that prints, and publishes through a sink the node plugs in at start-up.

The API mirrors the stdlib's: `log = getLogger("name")`, `log.info("read %s", value)`. A message
is formatted only if its level is on. Published messages wait in one bounded queue: during an
outage the oldest is dropped and counted, so logging never blocks and never grows without limit.
Nothing here raises. See docs/logging.md.
"""

import asyncio
import time

from pysmartnode.platform import const

DEBUG = const(10)
INFO = const(20)
WARNING = const(30)
ERROR = const(40)
CRITICAL = const(50)

_NAMES = {DEBUG: "debug", INFO: "info", WARNING: "warn", ERROR: "error", CRITICAL: "critical"}

_level = INFO
_queue = []  # (level name, payload) waiting for the sink; oldest first
_queue_len = 16
_dropped = 0
_wake = None  # asyncio.Event, made when the sender starts
_sender = None
_loggers = {}
_clock_offset = 0  # seconds added to time.time() for printed timestamps (boards keep UTC)
_reason_file = "reset_reason.txt"
_taps = []  # callbacks tap(level, name, text) for every message that is not local_only


class Logger:
    """A named logger; get one with getLogger(name)."""

    def __init__(self, name):
        self.name = name
        self.level = 0  # 0: follow the node's level

    def setLevel(self, level):
        self.level = level

    def isEnabledFor(self, level):
        return level >= (self.level or _level)

    def log(self, level, msg, *args, local_only=False):
        if level < (self.level or _level):
            return
        try:
            text = msg % args if args else str(msg)
        except Exception:  # a wrong format string must not take the caller down
            text = "%s %r" % (msg, args)
        emit(level, self.name, text, local_only)

    def debug(self, msg, *args, local_only=False):
        self.log(DEBUG, msg, *args, local_only=local_only)

    def info(self, msg, *args, local_only=False):
        self.log(INFO, msg, *args, local_only=local_only)

    def warning(self, msg, *args, local_only=False):
        self.log(WARNING, msg, *args, local_only=local_only)

    def error(self, msg, *args, local_only=False):
        self.log(ERROR, msg, *args, local_only=local_only)

    def critical(self, msg, *args, local_only=False):
        self.log(CRITICAL, msg, *args, local_only=local_only)


def getLogger(name="node"):
    """The logger called name (one per component, named by its config key)."""
    logger = _loggers.get(name)
    if logger is None:
        logger = _loggers[name] = Logger(name)
    return logger


def configure(debug=False, queue_len=16, reason_file=None):
    """Sets the node's level (DEBUG on or off), the queue's length and the reset-reason file."""
    global _level, _queue_len, _reason_file
    _level = DEBUG if debug else INFO
    _queue_len = queue_len
    if reason_file:
        _reason_file = reason_file


def set_level(level):
    """Sets the node's level (DEBUG .. CRITICAL); loggers with a level of their own keep it."""
    global _level
    _level = level


def level():
    """The node's level."""
    return _level


def tap(callback):
    """callback(level, name, text) runs for every message published from now on (the HTTP
    API's log tail and event stream). It must not raise, block or log. Returns callback;
    untap(callback) removes it."""
    _taps.append(callback)
    return callback


def untap(callback):
    if callback in _taps:
        _taps.remove(callback)


def set_clock_offset(seconds):
    """Seconds added to the clock for printed timestamps (boards keep UTC; see networking.ntp)."""
    global _clock_offset
    _clock_offset = seconds


def _stamp():
    t = time.localtime(int(time.time() + _clock_offset))
    return "%02d:%02d:%02d" % (t[3], t[4], t[5])


def emit(level, name, text, local_only=False):
    """Prints one message and queues it for publishing. Never raises."""
    global _dropped
    try:
        level_name = _NAMES.get(level) or "info"
        print("%s [%s] %s: %s" % (_stamp(), level_name, name, text))
        if local_only:
            return
        if len(_queue) >= _queue_len:
            _queue.pop(0)
            _dropped += 1
        _queue.append((level_name, "[%s] %s" % (name, text)))
        if _wake is not None:
            _wake.set()
        for callback in _taps:
            callback(level, name, text)
    except Exception as e:  # MemoryError or a broken stdout: nothing sensible is left to do
        try:
            print("logging failed:", e)
        except Exception:
            pass


def dropped():
    """How many messages the queue has dropped since start."""
    return _dropped


def start(sink):
    """Starts publishing: `await sink(level_name, payload)` for each queued message, in order."""
    global _wake, _sender
    stop()
    _wake = asyncio.Event()
    if _queue:
        _wake.set()
    _sender = asyncio.create_task(_send(sink))


def stop():
    """Stops publishing; messages keep queueing (bounded) until start() is called again."""
    global _sender
    if _sender is not None:
        _sender.cancel()
        _sender = None


async def flush(timeout=2):
    """Waits (up to timeout seconds) until the queue is empty, e.g. before a clean stop."""
    waited = 0
    while _queue and _sender is not None and waited < timeout:
        await asyncio.sleep(0.05)
        waited += 0.05


async def _send(sink):
    while True:
        if not _queue:
            _wake.clear()
            await _wake.wait()
            continue
        level_name, payload = _queue[0]
        try:
            await sink(level_name, payload)
        except Exception as e:  # the sink's failure is printed, never raised into callers
            print("log publish failed:", e)
        if _queue and _queue[0][1] is payload:
            _queue.pop(0)


def fatal(reason):
    """Prints reason as critical, records it for the next start, and ends the node.

    Safe to call from the watchdog's thread or timer: it touches no asyncio object.
    """
    try:
        emit(CRITICAL, "node", "reset: " + reason, local_only=True)
        record_reset(reason)
    finally:
        from pysmartnode.platform import restart

        restart(1)


def record_reset(reason):
    """Writes why the node is about to end, for last_reset() after the next start."""
    try:
        with open(_reason_file, "w") as f:
            f.write(reason)
    except OSError as e:
        print("cannot record reset reason:", e)


def last_reset():
    """The reason recorded before the last reset, or None; the record is removed."""
    try:
        with open(_reason_file) as f:
            reason = f.read()
    except OSError:
        return None
    try:
        import os

        os.remove(_reason_file)
    except OSError:
        pass
    return reason
