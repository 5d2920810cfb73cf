"""Child-process plumbing shared by the brokers and the runtimes."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import subprocess
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def _make_die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes Linux SIGKILL the child when pytest dies.

    Teardown kills every child anyway; this covers pytest itself being killed (a CI timeout,
    ``kill -9``) so no broker is left holding a port. The libc function is looked up here, in
    the parent, so the forked child only makes one call.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)

    return die_with_parent


DIE_WITH_PARENT = _make_die_with_parent()


def reap(proc: subprocess.Popen, timeout: float = 5.0, kill: bool = False) -> int:
    """Stop ``proc`` (SIGTERM, or SIGKILL when ``kill``), escalate to SIGKILL, and wait for it.

    Always waits, so no zombie and no ``ResourceWarning`` is left behind.
    """
    if proc.poll() is None:
        try:
            proc.kill() if kill else proc.terminate()
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    return proc.returncode
