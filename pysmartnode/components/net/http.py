"""The node's HTTP API and web page (optional: a node without this entry serves nothing).

REST + server-sent events over the same entities as MQTT, on microdot (PyPI `microdot`; on a
board copy its `.mpy` files, see docs/http.md), behind our own guards: a deadline for reading
a request and for each write, a cap on concurrent connections and event streams, 503 below a
free-heap floor, a cap on the request head and body, and constant-time credential checks.
The routes are in http_api.py (docs/http.md lists them), the guards in http_guard.py.

Example config (hjson):
    http: {
        package: ".net.http"
        component: "HTTP"
        constructor_args: {
            host: "127.0.0.1"     # optional, address to listen on; "0.0.0.0": every interface
            port: 8080            # optional
            user: "admin"         # optional, with password: HTTP Basic auth
            password: "secret"    # optional
            token: null           # optional, a bearer token (Authorization: Bearer <token>)
            auth: null            # optional: null = on unless host is 127.0.0.1; true; false
            max_connections: 4    # optional, requests served at once; more get 503
            max_events: 2         # optional, event streams at once; more get 503
            timeout: 5            # optional, s to read a request, to handle it, per write
            min_free: 8192        # optional, bytes of free heap below which requests get 503
            max_head: 4096        # optional, bytes of request line and headers (else 431)
            max_body: 2048        # optional, bytes of a request body (else 413)
            log_lines: 20         # optional, log lines kept for /api/v1/logs
            page: null            # optional, the gzipped page (default: http_page.html.gz here)
            ping: 15              # optional, s between pings on an event stream
            pico_home_hub: false  # optional, Pico-Home-Hub's GET /<name>/<on|off> (http_compat)
            esphome: false        # optional, ESPHome's /<domain>/<name>[/<action>] (http_compat)
        }
    }
"""

import asyncio

from pysmartnode.components.net.http_guard import Deadlines, address, guard, refusal
from pysmartnode.components.net.http_streams import HeadTooLong, Reader, Writer, until_closed
from pysmartnode.platform import collect, mem_free, ticks_diff, ticks_ms
from pysmartnode.utils.component.base import ComponentBase

_LOCAL = ("127.0.0.1", "localhost", "::1")


class HTTP(ComponentBase):
    """The HTTP server component. See the module docstring for the arguments.

    Raises:
        ValueError: auth is on (the default beyond 127.0.0.1) and no credentials are given,
            or a limit is not a positive number.
    """

    def __init__(self, name, host="127.0.0.1", port=8080, user=None, password=None, token=None,
                 auth=None, max_connections=4, max_events=2, timeout=5, min_free=8192,
                 max_head=4096, max_body=2048, log_lines=20, page=None, ping=15,
                 pico_home_hub=False, esphome=False):  # fmt: skip
        super().__init__(name, discover=False)
        for key, value in (("port", port), ("max_connections", max_connections),
                           ("max_events", max_events), ("timeout", timeout),
                           ("max_head", max_head), ("max_body", max_body),
                           ("log_lines", log_lines), ("ping", ping)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError("%s must be a number > 0, got %r" % (key, value))
        if auth is None:
            auth = host not in _LOCAL
        self._credentials = []  # full Authorization header values that are let in
        if user is not None or password is not None:
            if not user or not password:
                raise ValueError("give both user and password, or neither")
            from binascii import b2a_base64

            basic = b2a_base64(("%s:%s" % (user, password)).encode()).strip()
            self._credentials.append(b"Basic " + basic)
        if token:
            self._credentials.append(b"Bearer " + str(token).encode())
        if auth and not self._credentials:
            raise ValueError(
                "listening on %s needs credentials: give user and password or a token "
                "(or auth: false on a trusted network)" % host
            )
        self.auth = bool(auth)
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.max_events = max_events
        self.timeout = timeout
        self.min_free = min_free or 0
        self.max_head = max_head
        self.max_body = max_body
        self._log_lines = log_lines
        self.page = page
        self._ping = ping
        self.pico_home_hub = bool(pico_home_hub)
        self.esphome = bool(esphome)
        self.active = 0  # requests being served now (event streams not counted)
        self.counts = {"requests": 0, "busy": 0, "low_memory": 0, "bad": 0, "timeouts": 0,
                       "unauthorized": 0}  # fmt: skip
        self._deadlines = Deadlines(timeout)
        self._heap_checked = None  # ticks of the last check that found enough free heap
        self._server = None
        self._app = None
        self.entities = None
        self.hub = None

    def _start(self):
        self._spawn(self._serve)

    async def _serve(self):
        from pysmartnode.components.net import http_api
        from pysmartnode.components.net.http_entities import shared
        from pysmartnode.components.net.http_events import Hub

        if self._app is None:
            self.entities = shared(self._log)
            self.hub = Hub(
                self.entities, self.info, self._log_lines, self._ping, http_api.parameters
            )
            self._app = http_api.build(self)
        # A queue of connections the kernel holds for us: the unix port's default of 5 makes a
        # burst of clients wait for SYN retries (seconds); each waiting one costs us no heap
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, backlog=self.max_connections * 8
        )
        self._log.info("serving http://%s:%d/", self.host, self.port)
        while True:
            await asyncio.sleep(3600)

    def stop(self):
        if self._server is not None:
            self._server.close()
            self._server = None
        if self.hub is not None:
            self.hub.stop()
        if self.entities is not None:
            self.entities.stop()
        super().stop()

    def info(self):
        """The node's status (the status component's report) and the server's counters."""
        from pysmartnode import node
        from pysmartnode.platform import reset_cause

        out = node.status.report() if node.status is not None else {}
        out["reset_cause"] = reset_cause()
        http = dict(self.counts)
        http["active"] = self.active
        http["events"] = self.hub.clients() if self.hub else 0
        http["events_dropped"] = self.hub.dropped if self.hub else 0
        out["http"] = http
        return out

    # ------------------------------------------------------------------ serving

    async def _connection(self, reader, writer):
        from microdot import Request

        self.counts["requests"] += 1
        out = Writer(writer, self.timeout)
        if self.active >= self.max_connections:
            self.counts["busy"] += 1
            await self._send(out, refusal(503, "busy: too many connections"))
            await out.aclose()
            return
        if self.min_free and not self._heap_ok():
            self.counts["low_memory"] += 1
            await self._send(out, refusal(503, "low memory"))
            await out.aclose()
            return
        self.active += 1
        counted = True
        self._deadlines.start()
        try:
            peer = writer.get_extra_info("peername")
            try:
                req = await Request.create(self._app, Reader(reader, self.max_head), out, peer)
            except HeadTooLong:
                self.counts["bad"] += 1
                await self._send(out, refusal(431, "request head too long"))
                return
            except OSError:
                return  # the client went away
            except Exception:  # a request line or header that does not parse
                self.counts["bad"] += 1
                await self._send(out, refusal(400, "bad request"))
                return
            if req is None:
                return  # connected and closed without a request
            res = guard(self, req)
            if res is None:
                res = await self._app.dispatch_request(req)
            if res.headers.get("Content-Type") == "text/event-stream":
                self._deadlines.forget()  # a stream has no deadline: each write has one
                self.active -= 1  # and a cap of its own (max_events)
                counted = False
                peer_gone = asyncio.create_task(until_closed(reader, res.body))
                try:
                    await res.write(out)  # a slow reader is dropped
                finally:
                    peer_gone.cancel()
                    # microdot passes over a reset met while it writes the head and returns
                    # without closing the body: such a stream would stay until its queue
                    # filled (~15 s of events, its snapshot held), so it ends here
                    res.body.end()
                if res.body.why:
                    self._log.warning(
                        "event stream from %s closed: %s", address(peer), res.body.why
                    )
            else:
                await self._send(out, res)
        except asyncio.CancelledError:
            if not self._deadlines.expired(asyncio.current_task()):
                raise  # the server is stopping
            self.counts["timeouts"] += 1
            await self._send(out, refusal(408, "request not complete in time"))
        except Exception as e:  # one connection must never take the server down
            self._log.warning("connection failed: %s: %s", type(e).__name__, e)
        finally:
            self._deadlines.forget()
            if counted:
                self.active -= 1
            await out.aclose()

    def _heap_ok(self):
        # gc.mem_free() walks the whole heap's allocation table (0.45 ms for 2 MB on the unix
        # port, measured): a good answer is kept for a quarter of a second
        now = ticks_ms()
        if self._heap_checked is not None and ticks_diff(now, self._heap_checked) < 250:
            return True
        free = mem_free()
        if free is None:
            return True  # CPython: no fixed heap
        if free < self.min_free:
            collect()
            if mem_free() < self.min_free:
                self._heap_checked = None
                return False
        self._heap_checked = now
        return True

    async def _send(self, out, res):
        try:
            await res.write(out)  # every write that has to wait has the deadline
        except OSError:
            pass  # the client went away or stopped reading
