"""Server-sent events and the log tail of the HTTP API. Part of `.net.http`.

Each client has a short queue of encoded events. A client whose queue is full (it does not
read, or reads slower than the node changes) is dropped, so a stalled browser can never fill
the heap. One task watches the entities' states while clients are connected and sends what
changed; the base classes need no hook for it.
"""

import asyncio
import json
import time

_POLL = 0.25  # seconds between looks at the entities' states (a change shows within this)
_PARAMS_EVERY = 4  # polls between looks at the parameters (they change seldom)
_NAMES = {10: "debug", 20: "info", 30: "warning", 40: "error", 50: "critical"}


def frame(event, data):
    """One SSE frame: `event: <event>` and the data as JSON on one line."""
    return ("event: %s\ndata: %s\n\n" % (event, json.dumps(data))).encode()


class Client:
    """One connected event stream; an async iterator of frames for microdot's Response."""

    def __init__(self, hub, level, queue_len):
        self._hub = hub
        self.level = level
        self._queue = []
        self._queue_len = queue_len
        self._event = asyncio.Event()
        self.closed = False
        self.why = None  # why the node closed the stream

    def push(self, data):
        if self.closed:
            return
        if len(self._queue) >= self._queue_len:
            self.why = "client too slow"
            self.close()  # dropped, its queue freed
            return
        self._queue.append(data)
        self._event.set()

    def close(self):
        if not self.closed:
            if self.why:
                self._hub.dropped += 1
            self.closed = True
            self._queue = []
            self._event.set()
            self._hub.remove(self)

    def __aiter__(self):
        return self

    async def __anext__(self):
        while not self._queue:
            if self.closed:
                raise StopAsyncIteration
            self._event.clear()
            await self._event.wait()
        if self.closed:
            raise StopAsyncIteration
        return self._queue.pop(0)

    def end(self):
        """The response is over: a stream still open lost its client in a write."""
        if not self.closed:
            self.why = "a write failed: client too slow or gone"
        self.close()

    async def aclose(self):
        # microdot calls this at the end of the stream, also when a write of a frame failed
        self.end()


class Hub:
    """The event stream's clients, the state watcher and the log ring buffer."""

    def __init__(self, entities, info, log_lines, ping, params=None):
        self._entities = entities
        self._info = info  # a function returning the node's status dict
        self._params = params  # params(declared=False): the parameters, None without any
        self._clients = []
        self._lines = []  # the last log lines: [time, level, name, text]
        self._log_lines = log_lines
        self._ping = ping
        self._task = None
        self.dropped = 0  # streams the node ended: a client too slow, or gone mid-write
        from pysmartnode.logging import logger

        self._tap = logger.tap(self._on_log)

    def clients(self):
        return len(self._clients)

    def lines(self, level=0):
        out = []
        for stamp, lvl, name, text in self._lines:
            if lvl >= level:
                out.append({"time": stamp, "level": _NAMES.get(lvl, lvl), "name": name,
                            "text": text})  # fmt: skip
        return out

    def _on_log(self, level, name, text):
        # Runs inside logging: no logging here, no raising, no waiting
        lines = self._lines
        if len(lines) >= self._log_lines:
            lines.pop(0)
        lines.append([int(time.time()), level, name, text])
        if self._clients:
            data = None
            for client in list(self._clients):
                if level >= client.level:
                    if data is None:
                        data = frame(
                            "log", {"level": _NAMES.get(level, level), "name": name, "text": text}
                        )
                    client.push(data)

    def add(self, level, queue_len):
        client = Client(self, level, queue_len)
        snapshot = {"info": self._info(), "entities": self._entities.describe_all()}
        declared = self._params(True) if self._params else None
        if declared is not None:
            snapshot["params"] = declared
        client.push(b"retry: 3000\n" + frame("snapshot", snapshot))
        self._clients.append(client)
        if self._task is None:
            self._task = asyncio.create_task(self._watch())
        return client

    def remove(self, client):
        if client in self._clients:
            self._clients.remove(client)

    async def _watch(self):
        try:
            last = self._entities.states()
            params = self._params() if self._params else None
            since_ping = 0
            turns = 0
            while self._clients:
                await asyncio.sleep(_POLL)
                since_ping += _POLL
                turns += 1
                if params is not None and turns % _PARAMS_EVERY == 0:
                    now = self._params()  # changed over MQTT, the API or the sensor's topic
                    if now != params:
                        params = now
                        self._send(frame("params", now))
                now = self._entities.states()
                for entity_id, value in now.items():
                    if entity_id not in last or last[entity_id] != value:
                        row = self._entities.find(entity_id)
                        self._send(frame("state", self._entities.describe(row)))
                last = now
                if since_ping >= self._ping:
                    since_ping = 0
                    self._send(frame("ping", {"uptime": self._info()["uptime"]}))
        finally:
            self._task = None

    def _send(self, data):
        for client in list(self._clients):
            client.push(data)

    def stop(self):
        from pysmartnode.logging import logger

        logger.untap(self._tap)
        for client in list(self._clients):
            client.close()
        if self._task is not None:
            self._task.cancel()
