"""Test-side handle of driver_app.py: a client process on either runtime, driven over a socket."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from pathlib import Path

DRIVER_APP = Path(__file__).with_name("driver_app.py")


class Digest:
    """A large payload as the app reported it: equal to bytes of the same length and SHA-256."""

    def __init__(self, event: dict):
        self.len = event["len"]
        self.sha256 = event["sha256"]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (bytes, bytearray)):
            return len(other) == self.len and hashlib.sha256(other).hexdigest() == self.sha256
        return NotImplemented

    def __repr__(self) -> str:
        return "<Digest %d bytes sha256 %s>" % (self.len, self.sha256[:12])


class DriverError(Exception):
    """A command failed inside the client process; carries the exception's name and text."""

    def __init__(self, reply: dict):
        super().__init__("%s: %s" % (reply["error"], reply["msg"]))
        self.name = reply["error"]
        self.text = reply["msg"]
        self.code = reply.get("code")
        self.oserror = reply.get("oserror")


class ClientApp:
    """Test-side handle of driver_app.py: send commands, collect replies and events."""

    def __init__(self, proc, conn: socket.socket):
        self.proc = proc
        self._conn = conn
        self._cond = threading.Condition()
        self._replies: dict[int, dict] = {}
        self.events: list[dict] = []
        self._next_id = 0
        self._closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            try:
                data = self._conn.recv(65536)
            except OSError:
                data = b""
            if not data:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buf += data
            *lines, buf = buf.split(b"\n")
            with self._cond:
                for line in lines:
                    obj = json.loads(line)
                    if "id" in obj:
                        self._replies[obj["id"]] = obj
                    else:
                        self.events.append(obj)
                self._cond.notify_all()

    def start(self, op: str, **kw) -> int:
        """Send a command without waiting; returns its id for result()."""
        self._next_id += 1
        kw.update(id=self._next_id, op=op)
        self._conn.sendall((json.dumps(kw) + "\n").encode())
        return self._next_id

    def result(self, cid: int, timeout: float = 15.0):
        """Wait for a command's reply; raise DriverError if it raised in the client."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while cid not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    why = "process ended" if self._closed else "timeout after %.1f s" % timeout
                    raise AssertionError(
                        "no reply to command %d (%s); output:\n%s" % (cid, why, self.proc.output())
                    )
                self._cond.wait(left)
            reply = self._replies.pop(cid)
        if not reply["ok"]:
            raise DriverError(reply)
        return reply["result"]

    def done(self, cid: int) -> bool:
        with self._cond:
            return cid in self._replies

    def call(self, op: str, timeout: float = 15.0, **kw):
        return self.result(self.start(op, **kw), timeout)

    def wait_event(self, pred, timeout: float = 10.0, start: int = 0) -> dict:
        """Wait for the first event from index `start` on that satisfies pred(event)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for ev in self.events[start:]:
                    if pred(ev):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise AssertionError(
                        "event not seen within %.1f s; events: %s\noutput:\n%s"
                        % (timeout, self.events[-20:], self.proc.output())
                    )
                self._cond.wait(left)

    def messages(self, src: str = "subs_cb") -> list[tuple[str, bytes | Digest, bool]]:
        """(topic, payload, retained) per message; a payload over 4 KiB comes as a Digest."""
        with self._cond:
            return [
                (e["topic"], bytes.fromhex(e["msg"]) if "msg" in e else Digest(e), e["r"])
                for e in self.events
                if e["ev"] == "msg" and e["src"] == src
            ]

    def wait_messages(self, n: int, src: str = "subs_cb", timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages(src)
            if len(msgs) >= n:
                return msgs
            if time.monotonic() > deadline:
                raise AssertionError("got %d of %d messages: %s" % (len(msgs), n, msgs[-5:]))
            with self._cond:
                self._cond.wait(0.05)

    def logs(self) -> list[str]:
        with self._cond:
            return [e["level"] + ": " + e["text"] for e in self.events if e["ev"] == "log"]

    def close(self):
        try:
            self.start("exit")
        except OSError:
            pass
        self._conn.close()
