"""The routes of the HTTP API (version 1), on a microdot app. Part of `.net.http`.

Every handler is a coroutine: microdot runs plain functions in a thread on CPython, and the
node's objects belong to the event loop.
"""

import asyncio
import json

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "critical": 50}


def _level(value, default):
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.lower() in _LEVELS:
        return _LEVELS[value.lower()]
    from pysmartnode.components.net.http_entities import HTTPError

    raise HTTPError(400, "level must be debug, info, warning, error or critical, got %r" % value)


def _body(req):
    """The JSON object in the request body ({} without a body)."""
    from pysmartnode.components.net.http_entities import HTTPError

    if not req.body:
        return {}
    try:
        data = json.loads(req.body.decode())
    except Exception:  # ValueError, UnicodeError; RecursionError for deep nesting
        raise HTTPError(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise HTTPError(400, "the body must be a JSON object")
    return data


def _arg(req, body, key):
    value = body.get(key)
    if value is None:
        value = req.args.get(key)
    return value


def build(http):
    """The microdot app serving http (the HTTP component)."""
    from microdot import Microdot, Request, Response

    from pysmartnode.components.net.http_entities import HTTPError

    Request.max_content_length = http.max_body  # microdot keeps these per process
    Request.max_body_length = http.max_body
    app = Microdot()
    entities = http.entities
    hub = http.hub

    def route(method, pattern):
        def wrap(handler):
            async def guarded(req, **kwargs):
                try:
                    return await handler(req, **kwargs)
                except HTTPError as e:
                    return {"error": e.message}, e.status

            app.route(pattern, [method])(guarded)
            return handler

        return wrap

    @route("GET", "/api/v1/info")
    async def info(req):
        return http.info()

    @route("GET", "/api/v1/entities")
    async def entity_list(req):
        return entities.describe_all()

    @route("GET", "/api/v1/entities/<entity_id>")
    async def entity(req, entity_id):
        return entities.describe(entities.find(entity_id))

    @route("POST", "/api/v1/entities/<entity_id>/<action>")
    async def act(req, entity_id, action):
        body = _body(req)
        return await entities.act(
            entity_id, action, _arg(req, body, "value"), _arg(req, body, "for")
        )

    def system():
        found = _system()
        if found is None:
            raise HTTPError(404, "parameters need the .machine.system component (docs/http.md)")
        return found

    @route("GET", "/api/v1/params")
    async def params(req):
        return system().params()

    @route("GET", "/api/v1/params/declared")
    async def declared(req):
        system()
        return parameters(True)

    @route("PATCH", "/api/v1/params")
    async def set_params(req):
        errors = system().apply(_body(req))
        if errors:
            return {"errors": errors, "params": system().params()}, 400
        return system().params()

    @route("GET", "/api/v1/logs")
    async def logs(req):
        return {"lines": hub.lines(_level(req.args.get("level"), 0))}

    @route("PUT", "/api/v1/logging/level")
    async def set_level(req):
        from pysmartnode.logging import logger

        level = _level(_arg(req, _body(req), "level"), None)
        if level is None:
            raise HTTPError(400, 'give the level: {"level": "debug"} or ?level=debug')
        logger.set_level(level)
        http._log.info("log level set to %s over HTTP", level)
        return {"level": level}

    @route("POST", "/api/v1/reboot")
    async def reboot(req):
        asyncio.create_task(_reboot(http._log))
        return {"rebooting": True}, 202

    @route("GET", "/api/v1/events")
    async def events(req):
        if hub.clients() >= http.max_events:
            raise HTTPError(503, "too many event streams (%d)" % http.max_events)
        client = hub.add(_level(req.args.get("level"), 20), 16)
        return Response(
            client, 200, {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )

    @route("GET", "/")
    async def page(req):
        return Response(
            _page(http.page),
            200,
            {"Content-Type": "text/html; charset=UTF-8", "Content-Encoding": "gzip"},
        )

    if http.pico_home_hub or http.esphome:
        from pysmartnode.components.net import http_compat

        http_compat.add_routes(app, http, route, http.pico_home_hub, http.esphome)
    return app


def _system():
    from pysmartnode import node

    for comp in node.components.values():
        if hasattr(comp, "apply") and hasattr(comp, "declared"):
            return comp
    return None


def parameters(declared=False):
    """The node's parameters {"<component>.<key>": value}, or with declared a list of their
    declarations with values ({"id", "component", "key", "type", "value", ...}); None without
    the .machine.system component."""
    system = _system()
    if system is None:
        return None
    values = system.params()
    if not declared:
        return values
    out = []
    for full, comp, _key, spec in system.declared():
        item = dict(spec)
        item["id"] = full
        item["component"] = comp.name
        item["value"] = values.get(full)
        out.append(item)
    return out


def _page(path):
    # The gzipped page: the file named by `page`, else the file beside this module (a tree of
    # files: the repository, tools/build.py's output, mip), else the bytes a firmware froze in
    # (tools/manifest.py: a frozen module has no file beside it)
    from pysmartnode.components.net.http_entities import HTTPError

    name = path or _here() + "http_page.html.gz"
    try:
        return open(name, "rb")
    except OSError:
        pass
    if path is None:
        try:
            from pysmartnode.components.net.http_page import DATA

            return DATA
        except ImportError:
            pass
    raise HTTPError(404, "no page on this node (%s)" % name)


def _here():
    name = __file__
    return name[: name.rfind("/") + 1]


async def _reboot(log):
    from pysmartnode.logging import logger
    from pysmartnode.platform import restart

    log.warning("restart requested over HTTP")
    await asyncio.sleep(0.2)  # the answer goes out first
    await logger.flush(2)
    logger.record_reset("restart requested over HTTP")
    restart(1)
