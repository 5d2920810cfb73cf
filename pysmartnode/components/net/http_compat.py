"""Compatibility routes, off by default: Pico-Home-Hub's PULL mode and ESPHome's REST API.

Pico-Home-Hub (`pico_home_hub: true`): `GET /<name>` and `GET /<name>/<action>` (on, off,
toggle, press); the `X-RESPONSE-TYPE` header (also its spelling `X-REPONSE-TYPE`) picks the
answer: 1 JSON, 2 text/html (the default). A GET that switches is open to cross-site requests:
turn it on only for a server that polls like that, and set credentials.

ESPHome (`esphome: true`): `GET /<domain>/<name>` and `POST /<domain>/<name>/<action>`
(`turn_on`, `turn_off`, `toggle`, `press`), `<name>` being the entity id or its name. Answers
`{"id": "<domain>/<name>", "state": "ON", "value": true}` as ESPHome does.
"""

_DOMAINS = ("switch", "sensor", "binary_sensor", "button", "number", "select", "text")
_ESPHOME_ACTIONS = (("turn_on", "on"), ("turn_off", "off"), ("toggle", "toggle"),
                    ("press", "press"))  # fmt: skip


def add_routes(app, http, route, pico, esphome):
    """Adds the enabled compatibility routes to app (after the API's own routes)."""
    from microdot import Response

    from pysmartnode.components.net.http_entities import HTTPError

    entities = http.entities

    def find(name, domain=None):
        from microdot.microdot import urldecode

        name = urldecode(name)
        for row in entities.table():
            if domain is not None and row[2] != domain:
                continue
            if row[0] == name or row[3].get("name") == name:
                return row
        raise HTTPError(404, "no entity %r" % name)

    def esphome_json(row):
        state = entities.describe(row)["state"]
        out = {"id": "%s/%s" % (row[2], row[3].get("name") or row[0])}
        if row[2] in ("switch", "binary_sensor"):
            out["value"] = state == "ON"
            out["state"] = state
        else:
            out["value"] = state
            unit = row[3].get("unit_of_meas")
            out["state"] = "%s %s" % (state, unit) if unit and state is not None else state
        return out

    async def pico_answer(req, row):
        kind = req.headers.get("X-RESPONSE-TYPE") or req.headers.get("X-REPONSE-TYPE") or "2"
        described = entities.describe(row)
        if kind.strip() == "1":
            return {"name": row[0], "state": described["state"]}
        text = "<html><body>%s: %s</body></html>" % (row[0], described["state"])
        return Response(text, 200, {"Content-Type": "text/html; charset=UTF-8"})

    if esphome:

        @route("POST", "/<domain>/<name>/<action>")
        async def esphome_action(req, domain, name, action):
            row = find(name, domain)
            ours = dict(_ESPHOME_ACTIONS).get(action)
            if ours is None:
                raise HTTPError(404, "no action %r" % action)
            await entities.act(row[0], ours)
            return esphome_json(row)

    if esphome or pico:

        @route("GET", "/<first>/<second>")
        async def two(req, first, second):
            if esphome and first in _DOMAINS:
                return esphome_json(find(second, first))
            if not pico:
                raise HTTPError(404, "Not found")
            row = find(first)
            await entities.act(row[0], second)
            return await pico_answer(req, row)

    if pico:

        @route("GET", "/<name>")
        async def pico_state(req, name):
            return await pico_answer(req, find(name))
