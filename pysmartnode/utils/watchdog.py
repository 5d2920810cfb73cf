"""Software watchdog: resets the node when the event loop stops turning.

A task stamps the time every second; a check outside the loop (a thread on Linux, a
machine.Timer on a board, a shell process on the unix port without ffi) looks at the stamp.
When it is older than `timeout` seconds, a component is blocking the loop: the reason is
printed and recorded (published after the next start) and the node resets; on Linux it exits
non-zero so a supervisor such as systemd restarts it. It watches the scheduler, not the
network: the MQTT client handles outages by itself. The unix port's shell process also ends a
node deadlocked on a lock of its own, with WATCHDOG_TIMEOUT = 0 too (docs/node.md).
"""

# Only what the feed and the check use at every turn is a name of this module (its table: 6
# slots, not 8); the check runs outside the loop, where an import would allocate
from pysmartnode.platform import sleep_ms, ticks_diff, ticks_ms


class Watchdog:
    """Starts watching at once; stop() ends it (on a clean shutdown). Made by start-up
    (startup.py's _start_watchdog, which picks the check).

    Args:
        timeout: seconds the loop may stand still before the node resets; 0: none (only the unix
            port's shell process watches then, for a deadlock).
        period: seconds between feeds and checks.
        reason: what the reset reports (made beforehand: the check must not allocate).
        check: the platform's watch() object, or None: every() then calls _check.
    """

    def __init__(self, timeout, period, reason, check):
        import asyncio

        from pysmartnode.platform import every

        self._timeout_ms = int(timeout * 1000)
        self._fed = ticks_ms()
        self._reason = reason
        self._task = asyncio.create_task(self._feed(period))
        self._check_timer = check or every(period, self._check)

    async def _feed(self, period):
        # This task's frame lives as long as the node: few locals, no try (the shell process's
        # feed, unix_watch.Watcher.feed, takes a MemoryError as a period not written)
        feed = getattr(self._check_timer, "feed", None)
        # MicroPython's sleep(seconds) makes a float each call: with the heap full for a moment
        # that killed this task, and the watchdog then reset a node that was fine
        period = int(period * 1000)
        while True:
            self._fed = ticks_ms()
            if feed is not None:
                feed()
            if self._check_timer.interrupted:
                raise KeyboardInterrupt  # Ctrl-C that hit the check's thread: stop the node
            await sleep_ms(period)

    def _check(self):
        if ticks_diff(ticks_ms(), self._fed) > self._timeout_ms:
            self._check_timer.stop()
            import pysmartnode.logging.logger  # `from ... import` allocates: the heap may be full

            pysmartnode.logging.logger.fatal(self._reason)

    def stop(self):
        self._check_timer.stop()
        self._task.cancel()
