"""Logging that prints, and publishes through a sink the node plugs in at start-up.

The API mirrors the stdlib's: `log = getLogger("name")`, `log.info("read %s", value)`. A message
is formatted only if its level is on. Published messages wait in one bounded queue: during an
outage the oldest is dropped and counted, so logging never blocks and never grows without limit.
Nothing here raises. See docs/logging.md.
"""

import asyncio

# 23 module names at most: one more grows the dict's table from 23 to 29 slots (16 bytes each).
# So no const() import, no `time` (emit imports it), and the level constants DEBUG .. CRITICAL
# live in control.py (`logger.DEBUG` finds them there); here the levels are plain numbers
_NAMES = ("debug", "info", "warn", "error", "critical")  # levels 10, 20 .. 50

_level = 20  # INFO
_queue = []  # (level name, payload) waiting for the sink; oldest first
_queue_len = 16
_dropped = 0
_sink = None  # (publisher, topic template or None) start() plugged in; None: messages only queue
_sender = None  # the task publishing the queue, while it is not empty
_loggers = {}
_clock_offset = 0  # seconds added to time.time() for printed timestamps (boards keep UTC)
_reason_file = "reset_reason.txt"
_taps = ()  # callbacks tap(level, name, text) for every message that is not local_only (a
# tuple, made again by tap() and untap(): none is the empty tuple, no list object for good)


class Logger:
    """A named logger (`name`); get one with getLogger(name)."""

    # No __init__ (a function held for good): getLogger names the logger, and its own level is
    # this default until setLevel gives it one
    level = 0  # 0: follow the node's level

    def __getattr__(self, attr):
        # setLevel and isEnabledFor, seldom called: functions of control.py, loaded for the call
        # (a class table of 10 slots, not 12, and two functions less for good)
        if attr != "setLevel" and attr != "isEnabledFor":
            raise AttributeError(attr)
        from pysmartnode.logging import control
        from pysmartnode.utils import forget

        func = getattr(control, attr)
        forget("pysmartnode.logging.control")  # as start-up drops it
        return lambda level: func(self, level)

    # **kw, not `local_only=False`: a keyword-only default costs each method a dict of its own
    # for good (0.6 KiB for these six on the unix port); kw may hold local_only=True (print
    # without publishing)
    def log(self, level, msg, *args, **kw):
        if level < (self.level or _level):
            return
        try:
            text = msg % args if args else str(msg)
        except Exception:  # a wrong format string must not take the caller down
            text = "%s %r" % (msg, args)
        emit(level, self.name, text, kw.get("local_only", False))

    def debug(self, msg, *args, **kw):
        self.log(10, msg, *args, **kw)

    def info(self, msg, *args, **kw):
        self.log(20, msg, *args, **kw)

    def warning(self, msg, *args, **kw):
        self.log(30, msg, *args, **kw)

    def error(self, msg, *args, **kw):
        self.log(40, msg, *args, **kw)

    def critical(self, msg, *args, **kw):
        self.log(50, msg, *args, **kw)


def getLogger(name="node"):
    """The logger called name (one per component, named by its config key)."""
    logger = _loggers.get(name)
    if logger is None:
        logger = _loggers[name] = Logger()
        logger.name = name
    return logger


def emit(level, name, text, local_only):
    """Prints one message and, unless local_only, queues it for publishing. Never raises."""
    # (local_only has no default: a default argument costs the function 32 bytes for good)
    global _dropped, _sender
    try:
        import time

        level_name = _NAMES[level // 10 - 1] if level in (10, 20, 30, 40, 50) else "info"
        t = time.localtime(int(time.time() + _clock_offset))
        print("%02d:%02d:%02d [%s] %s: %s" % (t[3], t[4], t[5], level_name, name, text))
        if local_only:
            return
        if len(_queue) >= _queue_len:
            _queue.pop(0)
            _dropped += 1
        _queue.append((level_name, "[%s] %s" % (name, text)))
        if _sink is not None and _sender is None:  # a task per burst: none waits at idle
            _sender = asyncio.create_task(_send())
        for callback in _taps:
            callback(level, name, text)
    except Exception as e:  # MemoryError or a broken stdout: nothing sensible is left to do
        try:
            print("logging failed:", e, "|", name, text)  # made beforehand: no heap needed
        except Exception:
            pass


def dropped():
    """How many messages the queue has dropped since start."""
    return _dropped


async def _send():
    # Publishes the queue in order until it is empty, then ends (emit starts the next one)
    global _sender
    try:
        while _queue and _sink is not None:
            level_name, payload = _queue[0]
            sink, topic = _sink
            try:
                if topic is None:
                    await sink(level_name, payload)
                else:  # an MQTT handle's publish: the level's topic, QoS 1
                    await sink(topic % level_name, payload, False, 1)
            except Exception as e:  # the sink's failure is printed, never raised into callers
                print("log publish failed:", e)
            if _queue and _queue[0][1] is payload:
                _queue.pop(0)
    finally:
        if _sender is asyncio.current_task():  # not a sender stop() replaced already
            _sender = None


def fatal(reason):
    """Prints reason as critical, records it for the next start, and ends the node.

    Safe to call from the watchdog's thread or timer: it touches no asyncio object.
    """
    try:
        try:
            line = "reset: " + reason
        except MemoryError:  # a full heap: the reason, made beforehand, prints all the same
            line = reason
        emit(50, "node", line, local_only=True)
        record_reset(reason)
    finally:
        import pysmartnode.platform  # `from ... import` allocates: with a full heap it would raise

        pysmartnode.platform.restart(1)


def record_reset(reason):
    """Writes why the node is about to end, for last_reset() after the next start."""
    try:
        with open(_reason_file, "w") as f:
            f.write(reason)
    except OSError as e:
        print("cannot record reset reason:", e)


def task_failed(loop, context):
    """The event loop's handler (start-up sets it): a task failed with nobody awaiting it. On a
    board its traceback would be lost. Here, not in the start-up module, which is dropped."""
    e = context.get("exception")
    try:
        getLogger("node").error(
            "task failed: %s", "%s: %s" % (type(e).__name__, e) if e else context.get("message")
        )
    except MemoryError:  # no heap to say it: the node runs on (raised here, it would end the
        # loop), unless no heap is left at all, the unix port's heap locked by a Ctrl-C inside
        # the collector: that MemoryError leaves the loop and run() ends the node with 0
        bytearray(8)


def __getattr__(attr):
    # The rarely used part (control.py: configure, start, stop, flush, level, set_level, tap,
    # untap, set_clock_offset, last_reset) loads on first use and is not bound here: start-up
    # drops it once done, so the idle node does not hold its functions
    if attr[:2] == "__":
        raise AttributeError(attr)
    from pysmartnode.logging import control

    return getattr(control, attr)
