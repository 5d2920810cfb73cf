"""The MicroPython unix port: a Linux node with MicroPython's small heap."""

import _thread
import gc
import os
import sys
import time

from micropython import const  # noqa: F401  re-exported for the rest of pysmartnode

from pysmartnode.platform import _host
from pysmartnode.platform._host import host_name, led, ntp_sync  # noqa: F401

KEEPS_TIME = True  # the OS keeps the clock: no NTP task
PLATFORM = "unix"
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
ticks_add = time.ticks_add
mem_free = gc.mem_free
mem_alloc = gc.mem_alloc
collect = gc.collect


def device_id():
    return host_name()


def reset_cause():
    return None


_MAIN_THREAD = _thread.get_ident()


def restart(code=1):
    if _thread.get_ident() == _MAIN_THREAD:
        raise SystemExit(code)
    # From the watchdog's thread: the unix port has no os._exit, and sys.exit() would end only
    # that thread. The shell's parent is this process, so the kill ends it wherever it is stuck
    os.system("kill -9 $PPID")
    time.sleep(1)
    raise SystemExit(code)  # not reached unless the kill failed


def _start_thread_without_sigint(func, args):
    """Start a thread that never receives SIGINT (Ctrl-C), where the build has `ffi`.

    MicroPython raises Ctrl-C in whichever thread Linux hands the signal to. A thread that gets
    it while the main thread collects garbage deadlocks the interpreter: the main thread has
    sent it the signal that makes a thread scan its own stack and waits for that scan, holding
    the heap's lock; the Ctrl-C jumps out of the scan before it reports back, and the thread
    then waits for the heap's lock to note the KeyboardInterrupt (docs/node.md). A new thread
    inherits the signal mask of the one that starts it, so SIGINT is blocked here for the
    moment of the start, then the old mask comes back; a Ctrl-C meanwhile waits for the main
    thread. Returns True when the thread was started that way, False without `ffi` (the
    PyPI wheel) or where SIG_BLOCK is not 0 (MIPS, SPARC, Alpha): a plain thread then.
    """
    try:
        import ffi

        mask = ffi.open(None).func("i", "pthread_sigmask", "iPP")
    except (ImportError, OSError, AttributeError):
        mask = None
    if mask is not None:
        import struct

        sigint = bytearray(struct.pack("L", 1 << 1))  # SIGINT (2) is bit 1 of the first word
        sigint.extend(bytes(128 - len(sigint)))  # a sigset_t: 128 bytes on glibc and musl
        old = bytearray(128)
        # SIG_BLOCK is 0 where Linux numbers it so; elsewhere 0 is refused (EINVAL), nothing
        # changed
        if mask(0, sigint, old) != 0:
            mask = None
    if mask is None:
        _thread.start_new_thread(func, args)
        return False
    try:
        _thread.start_new_thread(func, args)
    finally:
        mask(2, old, None)  # SIG_SETMASK: the main thread takes Ctrl-C again
    return True


class _Every:
    interrupted = False

    def __init__(self, seconds, func):
        self._running = True
        self.sigint_blocked = _start_thread_without_sigint(self._run, (seconds, func))

    def _run(self, seconds, func):
        while self._running:
            try:
                time.sleep(seconds)
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


def every(seconds, func):
    return _Every(seconds, func)


def irq_flag():
    import asyncio

    flag = getattr(asyncio, "ThreadSafeFlag", None)  # a build without it: the caller polls
    return flag() if flag is not None else None


class Link(_host.Link):
    def ip(self):
        # The unix port's sockets have no getsockname(): read the kernel's tables instead
        return route_ip()


def _dotted_to_int(text):
    n = 0
    for part in text.split("."):
        n = (n << 8) | int(part)
    return n


def route_ip(trie="/proc/net/fib_trie", route="/proc/net/route"):
    """The host's IPv4 address toward its default gateway, or None.

    The host's own addresses are the "/32 host LOCAL" leaves of the kernel's FIB trie; of those
    (loopback left out) the one sharing the longest prefix with the default gateway wins, the
    first one where there is no default route.
    """
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
    return min(found, key=lambda address: _dotted_to_int(address) ^ gateway)
