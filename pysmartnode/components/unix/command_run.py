"""Runs a shell command without blocking the event loop, for the command sensor and switch.

Imported for each call and dropped from sys.modules in it (_forget): a node holds it only while
a command runs. CPython: an asyncio subprocess, killed at the timeout. The MicroPython unix port has no
subprocesses in asyncio (nor threads one may block safely): `os.system` starts the command in
the background (it returns as soon as the shell has forked), coreutils' `timeout` ends it, and
the loop polls for the file in which the shell writes the exit status last.
"""

import asyncio
import os

_POLL = 0.05  # seconds between looks for the status file (unix port)


def _quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def scratch_path(name):
    """A file path prefix for one component's output files (the unix port), unique per run."""
    try:
        return "/tmp/pysmartnode-%s-%s" % (name, "".join("%02x" % b for b in os.urandom(3)))
    finally:
        _forget()


async def run(command, timeout, scratch):
    """(exit status, output text) of `sh -c command`, stdout and stderr together.

    scratch: a file path prefix this caller alone uses (the unix port's output files).
    Raises OSError if it ran longer than timeout seconds (it is killed)."""
    _forget()
    if hasattr(asyncio, "create_subprocess_shell"):
        return await _run_subprocess(command, timeout)
    return await _run_background(command, timeout, scratch)


def _forget():
    # The command sensor and switch import this module for each call (`from ... import run`
    # in the call): it leaves sys.modules at once, so a node holds it only while a command runs
    import sys

    sys.modules.pop(__name__, None)
    package = sys.modules.get(__name__[: __name__.rfind(".")])
    if package is not None and "command_run" in package.__dict__:
        delattr(package, "command_run")


async def _run_subprocess(command, timeout):
    from asyncio.subprocess import DEVNULL, PIPE, STDOUT

    proc = await asyncio.create_subprocess_shell(
        command, stdin=DEVNULL, stdout=PIPE, stderr=STDOUT, start_new_session=True
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        import signal

        os.killpg(proc.pid, signal.SIGKILL)  # the shell and what it started: all hold the pipe
        await proc.wait()
        raise OSError("timed out after %s s (killed)" % timeout) from None
    return proc.returncode, out.decode("utf-8", "replace")


async def _run_background(command, timeout, scratch):
    out, status = scratch + ".out", scratch + ".status"
    for path in (out, status, status + ".tmp"):
        try:
            os.remove(path)
        except OSError:
            pass
    # the status file appears (renamed) only once the command has ended: never half written
    script = "timeout -k 1 %s sh -c %s < /dev/null > %s 2>&1; echo $? > %s.tmp; mv %s.tmp %s" % (
        timeout,
        _quote(command),
        out,
        status,
        status,
        status,
    )
    if os.system("(%s) > /dev/null 2>&1 < /dev/null &" % script) != 0:
        raise OSError("could not start a shell")
    waited = 0
    while True:
        try:
            with open(status) as f:
                code = int(f.read().strip() or "-1")
            break
        except OSError:
            pass
        if waited > timeout + 5:  # timeout(1) kills at timeout + 1 s: the shell itself is gone
            raise OSError("no exit status after %s s" % waited)
        await asyncio.sleep(_POLL)
        waited += _POLL
    if code == 124 or code == 137:  # timeout(1): TERM sent, or KILL after it
        raise OSError("timed out after %s s (killed)" % timeout)
    try:
        with open(out, "rb") as f:
            data = f.read()
    except OSError:
        data = b""
    try:
        text = data.decode()
    except UnicodeError:  # not UTF-8: keep the ASCII, mark the rest
        text = "".join(chr(b) if b < 128 else "?" for b in data)
    for path in (out, status):
        try:
            os.remove(path)
        except OSError:
            pass
    return code, text
