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
    """A named logger; get one with getLogger(name). name, and level (0: follow the node's)."""

    # 12 names in this class's table of 12 slots (a 13th grows it to 17): no __init__
    # (getLogger sets name and level), so that emit's steps below fit

    def __getattr__(self, attr):
        # setLevel and isEnabledFor, seldom called: functions of control.py, loaded for the call
        # (two names less in the class's table and two functions less for good)
        if attr != "setLevel" and attr != "isEnabledFor":
            raise AttributeError(attr)
        from pysmartnode.logging import control
        from pysmartnode.utils import forget

        func = getattr(control, attr)
        forget("pysmartnode.logging.control")  # as start-up drops it
        return lambda level: func(self, level)

    # **kw, not `local_only=False`: a keyword-only default costs each method a dict of its own
    # for good (0.6 KiB for these six on the unix port); kw may hold local_only=True (print
    # without publishing). Every frame of a log call has 11 words at most (locals, value stack,
    # 3 per `try`), so that MicroPython keeps it on the C stack: a larger one takes a block of
    # the heap while it runs (bench/heap_frames.py); under a log line of the client's connect
    # six of them (1.2 KB) ran a small heap out. Hence the helpers below and args for msg
    def log(self, level, msg, *args, **kw):
        if level >= (self.level or _level):
            msg = Logger._text(msg, args)
            kw = kw.get("local_only", False)
            emit(level, self.name, msg, kw)

    def debug(self, *args, **kw):  # (msg, *args, local_only=False)
        self.log(10, *args, **kw)

    def info(self, *args, **kw):
        self.log(20, *args, **kw)

    def warning(self, *args, **kw):
        self.log(30, *args, **kw)

    def error(self, *args, **kw):
        self.log(40, *args, **kw)

    def critical(self, *args, **kw):
        self.log(50, *args, **kw)

    # Functions of the class, not methods (no self): emit's steps, each a small frame. Here,
    # not in the module, whose table is full (a 24th name grows it from 23 to 29 slots)
    def _text(msg, args):
        try:
            return msg % args if args else str(msg)
        except Exception:  # a wrong format string must not take the caller down
            return "%s %r" % (msg, args)

    def _line(level, name, text):  # "12:00:00 [info] name: text" on stdout
        t = __import__("time")
        t = t.localtime(int(t.time() + _clock_offset))
        level = _NAMES[level // 10 - 1] if level in (10, 20, 30, 40, 50) else "info"
        print("%02d:%02d:%02d" % t[3:6], "[%s]" % level, name + ":", text)

    def _queued(level, name, text):
        global _dropped, _sender
        if len(_queue) >= _queue_len:
            _queue.pop(0)
            _dropped += 1
        t = _NAMES[level // 10 - 1] if level in (10, 20, 30, 40, 50) else "info"
        _queue.append((t, "[%s] %s" % (name, text)))
        if _sink is not None and _sender is None:  # a task per burst: none waits at idle
            _sender = asyncio.create_task(_send())
        i = 0  # no `for`: its iterator holds 4 words of this frame
        while i < len(_taps):
            _taps[i](level, name, text)
            i += 1


def getLogger(name="node"):
    """The logger called name (one per component, named by its config key)."""
    logger = _loggers.get(name)
    if logger is None:
        logger = _loggers[name] = Logger()
        logger.name = name
        logger.level = 0  # 0: follow the node's level
    return logger


def emit(level, name, text, local_only):
    """Prints one message and, unless local_only, queues it for publishing. Never raises."""
    # (local_only has no default: a default argument costs the function 32 bytes for good).
    # Its own frame, 13 words with the `try`, takes 160 B of heap while it runs; the steps'
    # take none (Logger._line, _queued)
    try:
        Logger._line(level, name, text)
        if not local_only:
            Logger._queued(level, name, text)
    except Exception:  # MemoryError or a broken stdout: nothing sensible is left to do
        _failed(name, text)


def _failed(name, text):
    # emit's failure, on stdout with the error where the runtime has it (sys.exc_info(): CPython
    # and the unix port; a board says "error"). A frame of its own: emit's would not fit it
    try:
        e = __import__("sys").exc_info()[1]
    except Exception:  # none on this port, or no heap for its tuple
        e = "error"
    try:
        print("logging failed:", e, "|", name, text)  # made beforehand: no heap needed
    except Exception:
        pass


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
