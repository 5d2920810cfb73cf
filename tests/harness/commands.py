"""Run a shell command line as a user types it, and watch its output like a Proc."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

from .procs import DIE_WITH_PARENT
from .runtimes import Proc


class Command(Proc):
    """A command line run by bash in its own process group, with a pipe to its input.

    Unlike ``run_py`` nothing is added to the environment: ``env`` is the whole of it (None:
    ours). Waits and output are ``Proc``'s; ``stop()`` kills the whole group.
    """

    def __init__(
        self, line: str, env: dict[str, str] | None = None, cwd: str | Path | None = None
    ) -> None:
        self.runtime = "bash"
        self.argv = ["bash", "-c", line]
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self._popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            preexec_fn=DIE_WITH_PARENT,
            start_new_session=True,
        )
        self.pid = self._popen.pid
        self._reader = threading.Thread(target=self._read, name=f"cmd-{self.pid}", daemon=True)
        self._reader.start()

    def send(self, text: str) -> None:
        """Write ``text`` to the command's input."""
        self._popen.stdin.write(text.encode())
        self._popen.stdin.flush()

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the command's whole process group, as a terminal's Ctrl-C does."""
        if self._popen.poll() is None:
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 5.0) -> int:
        """Kill the whole group if still running, wait for it and its output."""
        self.send_signal(signal.SIGKILL)
        try:
            code = self._popen.wait(timeout=timeout)
        finally:
            if self._popen.stdin:
                self._popen.stdin.close()
        self._reader.join(timeout=timeout)
        return code
