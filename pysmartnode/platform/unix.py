"""The MicroPython unix port: a Linux node with MicroPython's small heap."""

# The modules this needs (_thread, os, sys, time) are imported where they are used: every name
# here is a slot of this module's table for good, and 29 names fit a table of 29 slots where
# the 30th grows it to 37 (16 bytes each)
from asyncio import sleep_ms  # noqa: F401  (sleep() makes a float: an allocation)
from gc import collect, mem_alloc, mem_free  # noqa: F401
from time import ticks_add, ticks_diff, ticks_ms  # noqa: F401

from micropython import const  # noqa: F401  re-exported for the rest of pysmartnode

from pysmartnode.platform._host import Link, host_name, led, ntp_sync  # noqa: F401

KEEPS_TIME = True  # the OS keeps the clock: no NTP task
PLATFORM = "unix"


def device_id():
    return host_name()


def reset_cause():
    return None


_MAIN_THREAD = __import__("_thread").get_ident()


def restart(code=1):
    import _thread
    import os
    import time

    if _thread.get_ident() == _MAIN_THREAD:
        raise SystemExit(code)
    # From the watchdog's thread: the unix port has no os._exit, and sys.exit() would end only
    # that thread. The shell's parent is this process, so the kill ends it wherever it is stuck
    os.system("kill -9 $PPID")
    time.sleep(1)
    raise SystemExit(code)  # not reached unless the kill failed


def _sigmask():
    """libc's pthread_sigmask through `ffi`, or None: no `ffi` (the PyPI wheel), or SIG_BLOCK is
    not 0 there (MIPS, SPARC, Alpha refuse 0 with EINVAL; blocking nothing changes nothing)."""
    try:
        import ffi

        mask = ffi.open(None).func("i", "pthread_sigmask", "iPP")
    except (ImportError, OSError, AttributeError):
        return None
    return mask if mask(0, bytearray(128), None) == 0 else None


def _start_thread_without_sigint(func, args, mask):
    """Start a thread that never receives SIGINT (Ctrl-C).

    MicroPython raises Ctrl-C in whichever thread Linux hands the signal to. A thread that gets
    it while the main thread collects garbage deadlocks the interpreter: the main thread has
    sent it the signal that makes a thread scan its own stack and waits for that scan, holding
    the heap's lock; the Ctrl-C jumps out of the scan before it reports back, and the thread
    then waits for the heap's lock to note the KeyboardInterrupt (docs/node.md). A new thread
    inherits the signal mask of the one that starts it, so SIGINT is blocked here for the
    moment of the start, then the old mask comes back; a Ctrl-C meanwhile waits for the main
    thread.
    """
    import _thread
    import struct

    sigint = bytearray(struct.pack("L", 1 << 1))  # SIGINT (2) is bit 1 of the first word
    sigint.extend(bytes(128 - len(sigint)))  # a sigset_t: 128 bytes on glibc and musl
    old = bytearray(128)
    mask(0, sigint, old)  # SIG_BLOCK
    try:
        _thread.start_new_thread(func, args)
    finally:
        mask(2, old, None)  # SIG_SETMASK: the main thread takes Ctrl-C again


class _Every:
    interrupted = False

    def __init__(self, seconds, func):
        import _thread

        self._running = True
        mask = _sigmask()
        self.sigint_blocked = mask is not None
        if mask is None:
            _thread.start_new_thread(self._run, (seconds, func))
        else:
            _start_thread_without_sigint(self._run, (seconds, func), mask)

    def _run(self, seconds, func):
        from time import sleep

        while self._running:
            try:
                sleep(seconds)
                if self._running:
                    func()
            except KeyboardInterrupt:
                # Without ffi (sigint_blocked False) Linux may hand SIGINT (Ctrl-C) to this
                # thread rather than the main one, and MicroPython then raises it here, where it
                # would end only this thread and leave the node running. Note it; the event
                # loop side raises it again (watchdog.py)
                self.interrupted = True

    def stop(self):
        self._running = False


def _quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


class _Watcher:
    """The watchdog's check in a shell process outside the interpreter: no thread of ours.

    The event loop writes a new count into a file every `period` (feed()); the shell reads it
    as often, and when it has not changed for `timeout` seconds it does what fatal() does:
    prints the reason on the node's stderr, records it in `reason_file` and ends the node
    (SIGKILL). It ends itself once the file is gone (stop()) or the node is.

    A deadlocked node ends sooner, after 2 periods: the count stands still and the node's only
    thread waits on a futex (Linux's lock wait, /proc/<pid>/wchan), which nothing in the process
    can wake. The wheel's MicroPython raises Ctrl-C from the signal handler wherever it is; in
    its allocator that leaves the heap's lock held, and the next allocation waits for ever
    (docs/node.md).
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
        checks = int(timeout / period + 0.999)
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
            " else n=0; last=$now; fi; r=;"
            " if [ $n -ge %d ]; then r=%s; elif [ $n -ge 2 ]; then set -- /proc/$p/task/*;"
            " w=; [ $# -eq 1 ] && read -r w < /proc/$p/wchan;"
            " case $w in *futex*) r=%s;; esac; fi;"
            ' if [ -n "$r" ] && [ -f %s ] && [ -e /proc/$p/cwd ]; then'
            " printf '%%s' \"$r\" > %s;"
            ' echo "$(date +%%H:%%M:%%S) [critical] node: reset: $r" >> /proc/$p/fd/2;'
            " kill -9 $p; break; fi; done; rm -f %s"
        ) % (f, period, f, checks, _quote(reason), _quote(deadlock), f, _quote(reason_file), f)
        os.system("(%s) </dev/null >/dev/null 2>&1 &" % script)

    def feed(self):
        self._count += 1
        try:
            with open(self._path, "w") as out:
                out.write(str(self._count))
        except OSError:
            return False  # the shell then sees no change: a watchdog that cannot be fed resets
        return True

    def stop(self):
        import os

        try:
            os.remove(self._path)
        except OSError:
            pass


def watch(timeout, period, reason, reason_file):
    """The watchdog's check outside the interpreter (_Watcher) where a thread of its own could
    deadlock a Ctrl-C: Linux without `ffi` (the PyPI wheel). None where a thread is safe: a
    build with `ffi` (its thread blocks SIGINT), or no /proc (macOS): every() then."""
    import os

    if _sigmask() is not None:
        return None
    try:
        os.stat("/proc/self/cwd")
        return _Watcher(timeout, period, reason, reason_file)
    except OSError:  # no /proc, or no folder to feed the check through
        return None


def every(seconds, func):
    return _Every(seconds, func)


def irq_flag():
    import asyncio

    flag = getattr(asyncio, "ThreadSafeFlag", None)  # a build without it: the caller polls
    return flag() if flag is not None else None


class Link(Link):  # _host's, with the address
    def ip(self):
        # The unix port's sockets have no getsockname(): read the kernel's tables instead
        return route_ip()


def route_ip(trie="/proc/net/fib_trie", route="/proc/net/route"):
    """The host's IPv4 address toward its default gateway, or None.

    The host's own addresses are the "/32 host LOCAL" leaves of the kernel's FIB trie; of those
    (loopback left out) the one sharing the longest prefix with the default gateway wins, the
    first one where there is no default route.
    """
    import sys

    found = []
    try:
        with open(trie) as f:
            leaf = None
            for line in f:
                line = line.strip()
                if line.startswith("|-- "):
                    leaf = line[4:]
                elif line == "/32 host LOCAL" and leaf and not leaf.startswith("127."):
                    if leaf not in found:
                        found.append(leaf)
    except (OSError, ValueError):
        return None
    if len(found) < 2:
        return found[0] if found else None
    gateway = None
    try:
        with open(route) as f:
            for line in f:
                cols = line.split()
                if len(cols) > 2 and cols[1] == "00000000":
                    # the kernel prints the address's four bytes as one number in host order
                    raw = int(cols[2], 16).to_bytes(4, sys.byteorder)
                    gateway = (raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]
                    break
    except (OSError, ValueError):
        pass
    if gateway is None:
        return found[0]

    # the smaller the XOR with the gateway, the longer the prefix both share
    def dotted_to_int(text):  # not a module name: the table holds 29 (see the top)
        n = 0
        for part in text.split("."):
            n = (n << 8) | int(part)
        return n

    return min(found, key=lambda address: dotted_to_int(address) ^ gateway)
