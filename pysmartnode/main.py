"""Start-up: config -> platform -> link -> MQTT -> built-ins -> components -> run for ever.

`run()` is what the root main.py calls on every runtime. See docs/node.md.
"""

import asyncio
import sys

# This module lives as long as the node (run() is on the stack): 10 names, a table of 10 slots
# (the 11th grows it to 12, the 13th to 17). What runs once is written out where it runs, not
# kept as a function of its own (32 bytes and a slot each), unless it needs locals: run()'s
# frame and _main's coroutine hold theirs for good, a function's go when it returns


def run(argv=None):
    """Loads the settings and runs the node until it is stopped; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if "--help" in argv or "-h" in argv:
        print(
            "usage: main.py [--config PATH] [--demo]\n\n"
            "  --config PATH  the node's config file (default: config.py beside main.py); its "
            "folder holds\n                 components.py and may hold modules the config "
            "imports\n  --demo         run the demo node with its own broker and settings "
            "(CPython; also with no\n                 config.py at all)\n\n"
            "Single options by environment variable: PYSMARTNODE_<OPTION>=value "
            "(PYSMARTNODE_DEBUG=1)."
        )
        return 0
    from pysmartnode.config import ConfigError

    # This frame lives as long as the node, on the heap (its locals, its deepest stack and 2
    # words per nested try: 160 B on the unix port): no name here for the start-up module's
    # function (it would keep that module after _main dropped it), none used once, no handler
    # doing more than a call
    try:
        demo = __import__("pysmartnode.startup").startup.load_settings(argv)
    except KeyboardInterrupt:  # stopped before it started: nothing to say offline
        return 0
    except ConfigError as e:  # said below, outside the handler (its slots are this frame's)
        demo = e
    if isinstance(demo, ConfigError):  # every problem of the file, one line each
        demo = "pysmartnode: config error: %s" % demo
        print(demo.replace("\n", "\npysmartnode: config error: "))
        return 2
    stopped = SystemExit(0)  # made now: after a Ctrl-C the heap may be locked
    try:
        asyncio.run(_main(demo))
        return 0
    except KeyboardInterrupt:
        _leave_if_heap_locked(stopped)
    except asyncio.CancelledError:
        return 0  # SIGTERM on CPython: _main has stopped the node already
    except Exception as e:  # the node itself failed: record why, then start again
        _leave_if_heap_locked(stopped)  # a Ctrl-C in the collector surfaced as MemoryError
        _crashed(e)
        return 0
    # Ctrl-C. Not a try nested in the handler: each level is slots of this frame, held on the
    # heap for the node's life
    try:
        asyncio.run(_stop())  # MicroPython leaves the tasks as they were: stop them now
    except Exception as e:  # a half-done stop is still a stop; the will covers `offline`
        print("pysmartnode: the clean stop failed (%s); the will reports offline" % e)
    return 0


def _leave_if_heap_locked(stopped):
    # The unix port raises Ctrl-C at once wherever the interpreter is, also in the middle of a
    # garbage collection, which then leaves the heap locked: nothing can be allocated again.
    # The clean stop may then fail first with MemoryError instead of KeyboardInterrupt. Skip
    # the stop (the broker publishes the will, `offline`) and leave with an exception made
    # beforehand
    try:
        bytearray(8)
    except MemoryError:
        print("pysmartnode: Ctrl-C hit the garbage collector; the will reports offline")
        raise stopped from None


def _crashed(e):
    from pysmartnode.logging.logger import emit, record_reset
    from pysmartnode.platform import restart

    reason = "crash: %s: %s" % (type(e).__name__, e)
    try:
        sys.print_exception(e)
    except AttributeError:  # CPython
        import traceback

        traceback.print_exception(e)
    emit(50, "node", reason, True)
    record_reset(reason)
    restart(1)


async def _main(demo):
    # This coroutine's frame lives as long as the node (its locals, deepest stack and 2 words
    # per nested try): no name for the start-up module's function or its result, and the stop
    # says its own failure (_stop), so no try nested here
    try:
        # start() drops the start-up module from sys.modules as it begins, and hands back the
        # first connect, awaited once its frame and that module are gone (~1 KB): the start's
        # peak
        await (await __import__("pysmartnode.startup").startup.start(demo))
        # The tasks the components started at the build end when they will: short ones soon
        # after the start, so look often at first (1, 2, 4... s), then hourly
        delay = 1
        while True:
            await asyncio.sleep(delay)
            _prune()
            delay = min(delay * 2, 3600)
    finally:  # a stop that fails must not hide why the node stops (MicroPython chains none)
        await _stop()


def _prune():
    # The tasks the build noted for the stop (startup._load_components) that have finished:
    # out, in place, so that the node does not hold their coroutines for its life. It makes
    # nothing (no range), and a moment with no heap must not end the node: tried again later
    try:
        from pysmartnode import node

        tasks = node.parts.get("tasks", ())
        i = len(tasks)
        while i:
            i -= 1
            if tasks[i].done():
                del tasks[i]
    except MemoryError:
        pass


async def _stop():
    # Says its own failure, for both callers (run's Ctrl-C, _main's end): a half-done stop is
    # still a stop, and the will covers `offline`
    try:
        import gc

        from pysmartnode import node
        from pysmartnode.logging import logger

        # No collection by threshold (startup.load_settings) from here on: the unix port's
        # collector signals every other thread to scan its stack, and the watchdog's thread,
        # ending now, then crashed the process now and then (SIGSEGV on Ctrl-C)
        if hasattr(gc, "threshold"):
            gc.threshold(-1)
        # The components' tasks first, while node.mqtt is still there for them: a task woken
        # during the stop must not find it gone (MicroPython resumes them in run()'s stop)
        tasks = node.parts.pop("tasks", ())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.sleep(0)  # each cancelled task ends here
        for name in ("watchdog", "wifi_led"):
            if name in node.parts:
                node.parts.pop(name).stop()
        for name in list(node.components):
            try:
                node.components.pop(name).stop()
            except Exception as e:  # one component's stop must not keep the node running
                print("pysmartnode: stopping %s: %s" % (name, e))
        node.discovery = None
        if node.status is not None:
            node.status.stop()
            node.status = None
        if node.mqtt is not None:
            mqtt, node.mqtt = node.mqtt, None
            logger.getLogger("node").info("stopping")
            await logger.flush(1)
            logger.stop()
            await mqtt.stop()
        if "broker" in node.parts:
            from pysmartnode.demo import stop_broker

            await stop_broker(node.parts.pop("broker"))
    except Exception as e:
        print("pysmartnode: the clean stop failed (%s); the will reports offline" % e)
