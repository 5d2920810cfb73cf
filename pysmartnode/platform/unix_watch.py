"""The unix port's watchdog check in a shell process (platform/unix.py's watch()): loaded only
when used, so a node checked by a thread (unix_thread.py) holds none of this."""


def _quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


class Watcher:
    """The watchdog's check in a shell process outside the interpreter: no thread of ours.

    The event loop writes a new count into a file every `period` (feed()); the shell reads it
    as often, and when it has not changed for `timeout` seconds it does what fatal() does:
    prints the reason on the node's stderr, records it in `reason_file` and ends the node
    (SIGKILL). It ends itself once the file is gone (stop()) or the node is.

    A deadlocked node ends sooner, after 2 periods: the count stands still and the node's only
    thread waits on a futex (Linux's lock wait, /proc/<pid>/wchan), which nothing in the process
    can wake. The wheel's MicroPython raises Ctrl-C from the signal handler wherever it is; in
    its allocator that leaves the heap's lock held, and the next allocation waits for ever
    (docs/node.md). With `timeout` 0 (WATCHDOG_TIMEOUT = 0) that check is all it does.
    """

    interrupted = False  # no thread for a Ctrl-C to land in
    sigint_blocked = False

    def __init__(self, timeout, period, reason, reason_file):
        import binascii
        import os

        token = binascii.hexlify(os.urandom(6)).decode()
        self._count = 0
        for folder in ("/dev/shm", "/tmp"):  # /dev/shm is memory: no disk write each period
            self._path = "%s/pysmartnode-watchdog-%s" % (folder, token)
            if self.feed():
                break
        else:
            raise OSError("no folder to feed the watchdog through")
        f = _quote(self._path)
        # The timeout: the count stood still for `timeout` seconds. None with timeout 0
        timed = ""
        if timeout:
            timed = "[ $n -ge %d ] && r=%s;" % (int(timeout / period + 0.999), _quote(reason))
        # $PPID is this process (os.system's shell is its child); a zombie has no cwd left.
        # A count that stood still for 2 periods while the node's only thread waits on a futex
        # is a deadlock: no other thread is there to wake it, so it ends now
        deadlock = (
            "watchdog: the node deadlocked on a lock of its own (the PyPI wheel's MicroPython"
            " does this when Ctrl-C lands inside its allocator)"
        )
        script = (
            "p=$PPID; n=0; last=;"
            " while [ -e /proc/$p/cwd ] && [ -f %s ]; do sleep %s;"
            ' read -r now < %s; if [ "$now" = "$last" ]; then n=$((n+1));'
            " else n=0; last=$now; fi; r=; %s"
            ' if [ -z "$r" ] && [ $n -ge 2 ]; then set -- /proc/$p/task/*;'
            " w=; [ $# -eq 1 ] && read -r w < /proc/$p/wchan;"
            " case $w in *futex*) r=%s;; esac; fi;"
            ' if [ -n "$r" ] && [ -f %s ] && [ -e /proc/$p/cwd ]; then'
            " printf '%%s' \"$r\" > %s;"
            ' echo "$(date +%%H:%%M:%%S) [critical] node: reset: $r" >> /proc/$p/fd/2;'
            " kill -9 $p; break; fi; done; rm -f %s"
        ) % (f, period, f, timed, _quote(deadlock), f, _quote(reason_file), f)
        os.system("(%s) </dev/null >/dev/null 2>&1 &" % script)

    def feed(self):
        # Never raises: the watchdog's task calls it each period, with no try of its own
        self._count += 1
        try:
            with open(self._path, "w") as out:
                out.write(str(self._count))
        except OSError:
            return False  # the shell then sees no change: a watchdog that cannot be fed resets
        except MemoryError:  # no heap for a moment: the next period writes again. (Not in one
            # `except (A, B)`: that tuple is made when the exception is matched, with no heap)
            return False
        return True

    def stop(self):
        import os

        try:
            os.remove(self._path)
        except OSError:
            pass
