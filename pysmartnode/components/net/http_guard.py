"""The HTTP component's guards (http.py serves): what a request must pass before a route sees
it (body size, credentials, origin), the deadline every connection is served in, and the
helpers they share.
"""

import asyncio

from pysmartnode.platform import ticks_add, ticks_diff, ticks_ms


def same(given, expected):
    """Compares two byte strings in a time that depends on len(expected) only."""
    diff = len(given) ^ len(expected)
    n = len(given)
    for i in range(len(expected)):
        diff |= expected[i] ^ (given[i] if i < n else 0)
    return diff == 0


def address(peer):
    """The client's IP address as text, from what the stream says on either runtime."""
    if isinstance(peer, (bytes, bytearray)) and len(peer) >= 8:
        return "%d.%d.%d.%d" % (peer[4], peer[5], peer[6], peer[7])  # unix port: a sockaddr_in
    if isinstance(peer, (tuple, list)) and peer:
        return str(peer[0])
    return "?"


def refusal(status, why):
    """A JSON error response that closes the connection."""
    from microdot import Response

    return Response({"error": why}, status, {"Connection": "close"})


def guard(http, req):
    """Body size, then credentials, then cross-site requests; None lets the request through,
    else the refusal to send (counted in http.counts)."""
    if req.content_length > http.max_body:
        http.counts["bad"] += 1
        return refusal(413, "body larger than %d bytes" % http.max_body)
    if http.auth:
        given = (req.headers.get("Authorization") or "").encode()
        ok = False
        for expected in http._credentials:
            ok = same(given, expected) or ok  # every one compared: no early exit
        if not ok:
            http.counts["unauthorized"] += 1
            http._log.warning(
                "unauthorized %s %s from %s", req.method, req.path, address(req.client_addr)
            )
            res = refusal(401, "unauthorized")
            res.headers["WWW-Authenticate"] = 'Basic realm="pysmartnode"'
            return res
    origin = req.headers.get("Origin")
    if origin and req.method not in ("GET", "HEAD"):
        host = req.headers.get("Host") or ""
        if origin.split("://", 1)[-1] != host:
            return refusal(403, "cross-origin request refused")
    return None


class Deadlines:
    """The deadline of every connection being served, enforced by one sweeper task (a
    wait_for per request would cost two tasks each: a third of the unix port's speed,
    measured). A task past its deadline is cancelled and `expired(task)` says so once."""

    def __init__(self, seconds):
        self._ms = int(seconds * 1000)
        self._open = []  # [task, deadline ticks] of the connections being served
        self._late = []  # tasks the sweeper cancelled for their deadline
        self._sweeper = None

    def start(self):
        """The current task's deadline starts now."""
        self._open.append([asyncio.current_task(), ticks_add(ticks_ms(), self._ms)])
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep())

    def forget(self):
        """The current task has no deadline any more (done, or an event stream)."""
        task = asyncio.current_task()
        for entry in self._open:
            if entry[0] is task:
                self._open.remove(entry)
                return

    def expired(self, task):
        """True once if the sweeper cancelled task for its deadline."""
        if task in self._late:
            self._late.remove(task)
            return True
        return False

    async def _sweep(self):
        try:
            while self._open:
                await asyncio.sleep(0.25)
                now = ticks_ms()
                for entry in list(self._open):
                    if ticks_diff(now, entry[1]) > 0:
                        self._open.remove(entry)
                        self._late.append(entry[0])
                        entry[0].cancel()
        finally:
            self._sweeper = None
