"""Loopback helpers: free ports and bounded waits for a port to open or close."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on ``host`` that nothing listens on right now.

    The kernel picks it (bind to port 0), so two calls rarely collide; a server that
    loses the race must retry with a new port (the brokers do).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if a TCP connect to ``host:port`` succeeds now (the probe is closed at once)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_listening(
    host: str,
    port: int,
    timeout: float = 10.0,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Poll until ``host:port`` accepts TCP connections.

    Args:
        alive: optional check called between probes; when it returns False the wait ends
            early with ``RuntimeError`` (the server process died).

    Raises:
        TimeoutError: nothing listened within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        if is_listening(host, port):
            return
        if alive is not None and not alive():
            raise RuntimeError(f"server for {host}:{port} exited before it listened")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing listened on {host}:{port} within {timeout:.1f} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def wait_closed(host: str, port: int, timeout: float = 10.0) -> None:
    """Poll until ``host:port`` refuses TCP connections.

    Raises:
        TimeoutError: something still listened after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while is_listening(host, port, timeout=0.2):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{host}:{port} still accepts connections after {timeout:.1f} s")
        time.sleep(0.01)


def poll_until(
    condition: Callable[[], object], timeout: float = 10.0, message: str = "condition"
) -> object:
    """Call ``condition`` until it returns something truthy, and return that.

    Raises:
        TimeoutError: it stayed falsy for ``timeout`` seconds; ``message`` says what was awaited.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.1f} s waiting for {message}")
        time.sleep(0.01)
