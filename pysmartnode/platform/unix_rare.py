"""What the unix port (platform/unix.py) answers only now and then: the device id and the reset
cause at start, the watchdog's check. unix.py's __getattr__ loads this module for each lookup
and drops it at once (the function holds what it needs), so the idle node holds none of it: a
function is 32 bytes of heap, and each name a slot of unix.py's table.
"""


def device_id():
    from pysmartnode.platform._host import host_name

    return host_name()


def reset_cause():
    return None


def _sigmask():
    """libc's pthread_sigmask through `ffi`, or None: no `ffi` (the PyPI wheel), or SIG_BLOCK is
    not 0 there (MIPS, SPARC, Alpha refuse 0 with EINVAL; blocking nothing changes nothing)."""
    try:
        import ffi

        # "p", not "P" (both a pointer): ffi reads the types as one-letter strings, and "P" is
        # no name of the firmware's, so it stayed in the heap's qstr pool for good
        mask = ffi.open(None).func("i", "pthread_sigmask", "ipp")
    except (ImportError, OSError, AttributeError):
        return None
    return mask if mask(0, bytearray(128), None) == 0 else None


def watch(timeout, period, reason, reason_file):
    """The watchdog's check outside the interpreter (unix_watch.Watcher) where a thread of its own could
    deadlock a Ctrl-C: Linux without `ffi` (the PyPI wheel). None where a thread is safe: a
    build with `ffi` (its thread blocks SIGINT), or no /proc (macOS): every() then."""
    import os

    if _sigmask() is not None:
        return None
    try:
        os.stat("/proc/self/cwd")
        from pysmartnode.platform.unix_watch import Watcher
        from pysmartnode.utils import forget

        forget("pysmartnode.platform.unix_watch")  # as every() does
        return Watcher(timeout, period, reason, reason_file)
    except OSError:  # no /proc, or no folder to feed the check through
        return None


def every(seconds, func):
    from pysmartnode.platform.unix_thread import Every
    from pysmartnode.utils import forget

    # Out of sys.modules and off the package at once (the object holds its class): one module
    # less in its table while the components load (it grows a step at 48), one name less in
    # the package's
    forget("pysmartnode.platform.unix_thread")
    return Every(seconds, func, _sigmask())
