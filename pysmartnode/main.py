"""Start-up: config -> platform -> link -> MQTT -> built-ins -> components -> run for ever.

`run()` is what the root main.py calls on every runtime. See docs/node.md.
"""

import asyncio

# This module lives as long as the node (run() is on the stack): 10 names, a table of 10 slots
# (the 11th grows it to 12, the 13th to 17). What runs once is written out where it runs, not
# kept as a function of its own (32 bytes and a slot each), unless it needs locals: run()'s
# frame and _main's coroutine hold theirs for good, a function's go when it returns


def run(argv=None):
    """Loads the settings and runs the node until it is stopped; returns the exit status."""
    # This frame and _serve's live as long as the node: each of 11 words at most (locals, value
    # stack, 3 per `try`), so that MicroPython keeps them on the C stack; a larger one takes a
    # block of the heap for the node's life (bench/heap_frames.py checks them)
    demo = _begin(argv)
    if demo is True or demo is False:
        return _serve(demo, SystemExit(0))  # made now: after a Ctrl-C the heap may be locked
    return demo  # the exit status of --help, a config error or a Ctrl-C during the start


def _begin(argv):
    # The settings: True or False (the demo or not), or the exit status if the node must not run
    import sys

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

    try:
        from pysmartnode.startup import load_settings

        return load_settings(argv)
    except KeyboardInterrupt:  # stopped before it started: nothing to say offline
        return 0
    except ConfigError as e:
        for line in str(e).split("\n"):  # every problem of the file, one line each
            print("pysmartnode: config error:", line)
        return 2


def _serve(demo, stopped):
    try:
        asyncio.run(_main(demo))
    except KeyboardInterrupt:
        _ended(stopped, False)
    except asyncio.CancelledError:
        pass  # SIGTERM on CPython: _main has stopped the node already
    except Exception:  # the node itself failed (no `as e`: 6 words more; _main kept it)
        _ended(stopped, True)
    return 0


def _ended(stopped, crashed):
    # The unix port raises Ctrl-C at once wherever the interpreter is, also in the middle of a
    # garbage collection, which then leaves the heap locked: nothing can be allocated again.
    # The clean stop may then fail first with MemoryError instead of KeyboardInterrupt (and a
    # crash be that MemoryError). Skip the stop (the broker publishes the will, `offline`) and
    # leave with an exception made beforehand
    try:
        bytearray(8)
    except MemoryError:
        print("pysmartnode: Ctrl-C hit the garbage collector; the will reports offline")
        raise stopped from None
    import sys

    if crashed:  # record why, then start again
        from pysmartnode import node

        # what _main kept; else what failed outside it (the event loop), as the runtime has it
        e = node.parts.pop("crash", None)
        if e is None and hasattr(sys, "exc_info"):
            e = sys.exc_info()[1]
        e = e or RuntimeError("the event loop failed")
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
    else:  # Ctrl-C: MicroPython leaves the tasks as they were; stop them now
        asyncio.run(_stop())


async def _main(demo):
    # This coroutine's frame lives as long as the node (its locals, deepest stack and 3 words
    # per nested try): no name for the start-up module's function or its result, no `finally`
    # (the handler below is one), and the stop says its own failure (_stop)
    try:
        # start() drops the start-up module from sys.modules as it begins, and hands back the
        # first connect, awaited once its frame and that module are gone (~1 KB): the start's
        # peak
        await (await __import__("pysmartnode.startup").startup.start(demo))
        # The tasks the components started at the build end when they will: short ones soon
        # after the start, so look often at first (1, 2, 4... s), then hourly
        demo = 1
        while True:
            await asyncio.sleep(demo)
            _prune()
            demo = min(demo * 2, 3600)
    except BaseException as e:  # the node stops: a Ctrl-C, SIGTERM on CPython, or a failure
        if isinstance(e, Exception):  # the node itself failed: kept for run() (_serve)
            __import__("pysmartnode.node").node.parts["crash"] = e
        await _stop()  # a stop that fails says so, and must not hide why the node stops
        raise


def _prune():
    # The tasks the build noted for the stop (startup_components.load) that have finished:
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
