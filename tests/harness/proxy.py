"""A TCP proxy in front of a broker that injects network faults on command."""

from __future__ import annotations

import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

from .net import LOOPBACK

_CHUNK = 65536
_MAX_BUFFERED = 1 << 20  # stop reading a side whose peer is this far behind


class _Link:
    """One accepted client connection and its connection to the upstream server."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.to_client = bytearray()
        self.to_upstream = bytearray()
        self.client_eof = False
        self.upstream_eof = False
        self.blackholed = False

    def pending(self, sock: socket.socket) -> bytearray:
        return self.to_client if sock is self.client else self.to_upstream

    def peer(self, sock: socket.socket) -> socket.socket:
        return self.upstream if sock is self.client else self.client


class FaultProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target`` from one background thread.

    It carries ``user``, ``password``, ``tls`` and ``kind`` of ``target`` (TLS passes through
    untouched), so it can stand in for the broker anywhere: ``observer(proxy)``, a node's
    config. Every control call returns once the proxy thread has applied it.

    Attributes:
        connections: connections accepted so far (refused ones included).
        active: connections open now.
    """

    def __init__(self, target: Any, command_timeout: float = 5.0) -> None:
        self.target = target
        self.upstream_host: str = target.host
        self.upstream_port: int = target.port
        self.host = LOOPBACK
        self.kind: str | None = getattr(target, "kind", None)
        self.connections = 0
        self._timeout = command_timeout
        self._frozen = False
        self._refusing = False
        self._rate = 0  # bytes/s client -> upstream when throttled, 0: no limit
        self._budget = 0.0
        self._budget_at = 0.0
        self._links: list[_Link] = []
        self._commands: list[tuple[Callable[[], None], threading.Event]] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._closed = False

        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(64)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name=f"fault-proxy-{self.port}")
        self._thread.daemon = True
        self._thread.start()

    # Broker-like attributes, read through from the target.
    @property
    def user(self) -> str | None:
        return getattr(self.target, "user", None)

    @property
    def password(self) -> str | None:
        return getattr(self.target, "password", None)

    @property
    def tls(self) -> Any:
        return getattr(self.target, "tls", None)

    @property
    def active(self) -> int:
        return len(self._links)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def __repr__(self) -> str:
        state = " frozen" if self._frozen else ""
        return (
            f"<FaultProxy {self.host}:{self.port} -> {self.upstream_host}:{self.upstream_port}"
            f" active={self.active}{state}>"
        )

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- control (test thread) ---------------------------------------------------------------

    def freeze(self) -> None:
        """Stop reading and forwarding in both directions, closing nothing: peers see silence.

        New connections are still accepted (and connected upstream) but frozen too.
        """
        self._call(lambda: setattr(self, "_frozen", True))

    def blackhole(self) -> None:
        """Freeze the connections open now for good (no FIN, no RST: a NAT that forgot them);
        new connections flow normally."""

        def apply() -> None:
            for link in self._links:
                link.blackholed = True

        self._call(apply)

    def release(self) -> None:
        """Let the connections held by ``blackhole()`` flow again: what they held arrives late,
        after the peers may have given up on them."""

        def apply() -> None:
            for link in self._links:
                link.blackholed = False

        self._call(apply)

    def thaw(self) -> None:
        """Resume forwarding; what was buffered while frozen is delivered."""
        self._call(lambda: setattr(self, "_frozen", False))

    def drop(self, reset: bool = False) -> None:
        """Close every current connection on both sides (with a TCP RST when ``reset``).

        Bytes still buffered in the proxy are discarded. Linux also sends RST instead of FIN
        on a socket closed with unread data, which is the case for a frozen link that was
        sent something.
        """

        def drop_all() -> None:
            for link in list(self._links):
                self._close_link(link, reset)

        self._call(drop_all)

    def throttle(self, bytes_per_second: int = 0) -> None:
        """Forward client -> upstream at most ``bytes_per_second`` (0: no limit): a slow uplink."""

        def apply() -> None:
            self._rate = bytes_per_second
            self._budget = 0.0
            self._budget_at = time.monotonic()

        self._call(apply)

    def refuse(self, on: bool = True) -> None:
        """While on, accept new connections and close them at once (existing ones live on)."""
        self._call(lambda: setattr(self, "_refusing", on))

    def corrupt(self, data: bytes) -> None:
        """Queue ``data`` towards every connected client as if the server had sent it.

        It goes between two forwarded chunks (on loopback, normally between packets); while
        frozen it waits for ``thaw``.
        """

        def inject() -> None:
            for link in self._links:
                link.to_client += data

        self._call(inject)

    def wait_connections(self, count: int, timeout: float = 10.0) -> None:
        """Wait until ``connections`` (accepted so far) is at least ``count``."""
        self._wait_for(lambda: self.connections >= count, timeout, f"{count} connection(s)")

    def wait_active(self, count: int, timeout: float = 10.0) -> None:
        """Wait until exactly ``count`` connections are open."""
        self._wait_for(lambda: self.active == count, timeout, f"{count} open connection(s)")

    def close(self) -> None:
        """Close the listener and every connection, and end the thread (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        self._poke()
        self._thread.join(self._timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"{self!r}: proxy thread did not stop")
        self._wake_w.close()

    def _wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        with self._changed:
            if not self._changed.wait_for(condition, timeout):
                raise TimeoutError(
                    f"{self!r}: timed out after {timeout:.1f} s waiting for {what}"
                    f" (accepted so far: {self.connections})"
                )

    def _call(self, action: Callable[[], None]) -> None:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        done = threading.Event()
        with self._lock:
            self._commands.append((action, done))
        self._poke()
        if not done.wait(self._timeout):
            raise TimeoutError(f"{self!r}: proxy thread did not answer in {self._timeout} s")

    def _poke(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    # -- proxy thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._closed:
                self._refill()
                self._update_interest()
                for key, events in self._selector.select(timeout=0.01 if self._rate else 1.0):
                    sock = key.fileobj
                    if sock is self._wake_r:
                        self._drain_wakeups()
                    elif sock is self._listener:
                        self._accept()
                    else:
                        self._service(key.data, sock, events)
                self._run_commands()
        finally:
            for link in list(self._links):
                self._close_link(link)
            self._selector.close()
            self._listener.close()
            self._wake_r.close()
            self._run_commands()  # release anyone still waiting on a command

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass

    def _run_commands(self) -> None:
        with self._lock:
            commands, self._commands = self._commands, []
        for action, done in commands:
            try:
                if not self._closed:
                    action()
            finally:
                done.set()
        if commands:
            self._notify()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            self.connections += 1
            if self._refusing:
                client.close()
                self._notify()
                continue
            try:
                upstream = socket.create_connection(
                    (self.upstream_host, self.upstream_port), timeout=self._timeout
                )
            except OSError:
                client.close()  # upstream down: the client sees its connection closed
                self._notify()
                continue
            for sock in (client, upstream):
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, upstream)
            self._links.append(link)
            self._notify()

    def _refill(self) -> None:
        if self._rate:
            now = time.monotonic()
            self._budget = min(self._rate / 10, self._budget + (now - self._budget_at) * self._rate)
            self._budget_at = now

    def _update_interest(self) -> None:
        for link in self._links:
            for sock in (link.client, link.upstream):
                events = 0
                if not self._frozen and not link.blackholed:
                    at_eof = link.client_eof if sock is link.client else link.upstream_eof
                    slow = self._rate and sock is link.client and self._budget < 1
                    if (
                        not at_eof
                        and not slow
                        and len(link.pending(link.peer(sock))) < _MAX_BUFFERED
                    ):
                        events |= selectors.EVENT_READ
                    if link.pending(sock):
                        events |= selectors.EVENT_WRITE
                # A selector cannot hold a socket with no events: unregister it instead.
                try:
                    current = self._selector.get_key(sock).events
                except KeyError:
                    current = 0
                if events == current:
                    continue
                if not events:
                    self._selector.unregister(sock)
                elif not current:
                    self._selector.register(sock, events, link)
                else:
                    self._selector.modify(sock, events, link)

    def _service(self, link: _Link, sock: socket.socket, events: int) -> None:
        if link not in self._links:
            return
        if events & selectors.EVENT_WRITE:
            out = link.pending(sock)
            try:
                sent = sock.send(out)
                del out[:sent]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self._close_link(link)
                return
        if events & selectors.EVENT_READ:
            size = _CHUNK
            if self._rate and sock is link.client:
                size = max(1, min(_CHUNK, int(self._budget)))
            try:
                data = sock.recv(size)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if data:
                if self._rate and sock is link.client:
                    self._budget -= len(data)
                link.pending(link.peer(sock)).extend(data)
            elif sock is link.client:
                link.client_eof = True
            else:
                link.upstream_eof = True
        # One side closed: deliver what it sent, then close both (MQTT has no half-close).
        if (link.client_eof and not link.to_upstream) or (link.upstream_eof and not link.to_client):
            self._close_link(link)

    def _close_link(self, link: _Link, reset: bool = False) -> None:
        if link in self._links:
            self._links.remove(link)
        for sock in (link.client, link.upstream):
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            if reset:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            sock.close()
        self._notify()


def random_fault(
    rng: Any, proxy: FaultProxy, broker: Any, freeze_seconds: tuple[float, float] = (2.0, 2.0)
) -> str:
    """Inflicts one fault picked by ``rng``: a dropped link, a frozen one (thawed after a pause
    drawn from ``freeze_seconds``) or a broker restart; returns its name."""
    fault = rng.choice(["drop", "freeze", "restart"])
    if fault == "drop":
        proxy.drop()
    elif fault == "freeze":
        proxy.freeze()
        time.sleep(rng.uniform(*freeze_seconds))
        proxy.thaw()
    else:
        broker.restart(down_seconds=rng.uniform(0.2, 1.0))
    return fault
