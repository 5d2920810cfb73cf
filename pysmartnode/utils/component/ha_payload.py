"""Home Assistant MQTT discovery payloads: the Builder and the rules they follow (ids, units
per device class, the device-based and per-entity layouts). discovery.py publishes them.

Rules (reference homeassistant-2026.md §0, HA 2024.11 … 2026.11):
- device-based discovery by default: one retained QoS 1 payload on
  `<prefix>/device/<node>/config` with every entity under `cmps`; per entity
  (`<prefix>/<platform>/<node>/<object_id>/config`) for HA older than 2024.11;
- a strict top level (dev, o, avty_t, cmps only), `qos` in each component;
- `uniq_id` = `<device id>_<object_id>`, `def_ent_id` = `<platform>.<device id>_<object_id>`,
  never `obj_id`; ids only `[a-zA-Z0-9_-]`; no two entities share one;
- a unit the device class does not allow drops the device class (logged), so the entity
  still shows;
- a removed component is sent as `{"p": platform}`, then omitted.
"""

_ORIGIN_URL = "https://github.com/kevinkk525/pysmartnode"
# Units HA accepts per sensor device class (the classes of definitions.py), "class:u1|u2;"
_UNITS = (
    ";apparent_power:VA|kVA|mVA;battery:%;carbon_dioxide:ppm"
    ";carbon_monoxide:mg/m³|ppb|ppm|μg/m³;current:A|mA|μA"
    ";data_rate:B/s|GB/s|Gbit/s|GiB/s|KiB/s|MB/s|Mbit/s|MiB/s|bit/s|kB/s|kbit/s"
    ";data_size:B|EB|EiB|GB|Gbit|GiB|KiB|MB|Mbit|MiB|PB|PiB|TB|TiB|YB|YiB|ZB|ZiB|bit|kB|kbit"
    ";distance:cm|ft|in|km|m|mi|mm|nmi|yd;duration:d|h|min|ms|s|μs"
    ";energy:GJ|GWh|Gcal|J|MJ|MWh|Mcal|TWh|Wh|cal|kJ|kWh|kcal|mWh;frequency:GHz|Hz|MHz|kHz"
    ";gas:CCF|L|ft³|m³;humidity:%;illuminance:lx;irradiance:BTU/(h⋅ft²)|W/m²;moisture:%"
    ";ph:;pm1:μg/m³;pm10:μg/m³;pm25:μg/m³;power_factor:%|;power:GW|MW|TW|W|kW|mW"
    ";precipitation:cm|in|mm;pressure:Pa|bar|cbar|hPa|inHg|kPa|mbar|mmHg|psi"
    ";atmospheric_pressure:Pa|bar|cbar|hPa|inHg|kPa|mbar|mmHg|psi;signal_strength:dB|dBm"
    ";sound_pressure:dB|dBA;speed:ft/s|in/d|in/h|in/s|km/h|kn|m/s|mm/d|mm/s|mph"
    ";temperature:K|°C|°F;volatile_organic_compounds:mg/m³|μg/m³;voltage:V|kV|mV|μV"
    ";volume:CCF|L|fl. oz.|ft³|gal|mL|m³;water:CCF|L|ft³|gal|m³;weight:g|kg|lb|mg|oz|st|μg"
    ";wind_speed:ft/s|in/s|km/h|kn|m/s|mph;aqi:;timestamp:;date:;enum:;"
)
# Device classes whose state class must be total or total_increasing
_TOTAL_ONLY = " energy gas water volume "


def ha_id(text):
    """text with every character outside [a-zA-Z0-9_-] replaced by `_` (discovery topic ids)."""
    out = []
    for c in text:
        out.append(c if (c.isalpha() or c.isdigit() or c in "_-") and ord(c) < 128 else "_")
    return "".join(out)


def entity_id(text):
    """An entity id's object part: lowercase [a-z0-9_], no doubled or edge `_`."""
    out = []
    for c in text.lower():
        if not (("a" <= c <= "z") or ("0" <= c <= "9")):
            c = "_"
        if c != "_" or (out and out[-1] != "_"):
            out.append(c)
    while out and out[-1] == "_":
        out.pop()
    return "".join(out) or "node"


def unit_problem(device_class, unit):
    """Why HA (≥ 2025.7) rejects unit for device_class, or None if it takes it."""
    start = _UNITS.find(";%s:" % device_class)
    if start < 0:
        return None  # a class without a table here: HA's own check decides
    start += len(device_class) + 2
    allowed = _UNITS[start : _UNITS.find(";", start)].split("|")
    if (unit or "") in allowed:
        return None
    if allowed == [""]:
        return "device class %s takes no unit, got %r" % (device_class, unit)
    return "unit %r is not valid for device class %s (use %s)" % (
        unit,
        device_class,
        ", ".join(u or "none" for u in allowed),
    )


class Builder:
    """Builds every discovery payload of a node; pure (no I/O), so tests can check them all.

    Args:
        device_id: the node's id (`<home>/<device_id>/...`).
        home: MQTT_HOME.
        prefix: Home Assistant's discovery prefix (MQTT_DISCOVERY_PREFIX).
        availability: the availability topic (full).
        device_name: the name HA shows for the device (default: device_id).
        model: the device model (default: the platform).
        version: the software version.
        per_entity: one payload per entity (HA < 2024.11) instead of one per device.
    """

    def __init__(self, device_id, home, prefix, availability, device_name=None, model=None,
                 version=None, per_entity=False):  # fmt: skip
        # no method that only a test or a tool needs (each is a function object and a slot of
        # the class dict): this class is loaded for every publication, the idle node's peak
        self.node_id = ha_id(device_id)
        self._base = "%s/%s/" % (home, device_id)
        self.prefix = prefix
        self.availability = availability
        self.device_name = device_name or device_id
        self.model = model
        self.version = version
        self.per_entity = per_entity
        self.problems = []  # (object_id, why) of the last build: what was dropped or changed

    def _blocks(self):
        # the dev and o blocks: {"dev": ..., "o": ..., "avty_t": ...}
        device = {"ids": [self.node_id], "name": self.device_name, "mf": "pysmartnode"}
        if self.model:
            device["mdl"] = self.model
        if self.version:
            device["sw"] = self.version
        origin = {"name": "pysmartnode", "url": _ORIGIN_URL}
        if self.version:
            origin["sw"] = self.version
        return {"dev": device, "o": origin, "avty_t": self.availability}

    def _component(self, object_id, platform, fields):
        config = {"p": platform}
        for key, value in fields.items():
            if key[-2:] == "_t" and isinstance(value, str) and value[:2] == "./":
                value = self._base + value[2:]
            config[key] = value
        config["uniq_id"] = "%s_%s" % (self.node_id, object_id)
        config["def_ent_id"] = "%s.%s" % (platform, entity_id(config["uniq_id"]))
        config["qos"] = 1
        config.pop("obj_id", None)  # ignored since HA 2026.4; def_ent_id replaces it
        if platform != "sensor":
            return config
        device_class = config.get("dev_cla")
        if device_class:
            why = unit_problem(device_class, config.get("unit_of_meas"))
            if why:
                self.problems.append((object_id, why + "; announced without device class"))
                del config["dev_cla"]
                device_class = None
        state_class = config.get("stat_cla")
        if state_class == "measurement" and device_class and " %s " % device_class in _TOTAL_ONLY:
            config["stat_cla"] = "total_increasing"
        if not config.get("unit_of_meas"):
            config.pop("unit_of_meas", None)
        return config

    def entities_iter(self, providers):
        """(object_id, platform, config) of every discovered entity of providers, one at a
        time, each object id once (a duplicate is dropped and recorded in self.problems)."""
        self.problems = []
        # The ids so far as one text " id id ... " (ids have no space), not a dict holding
        # every id string to the end: the publication's peak is at its last entity.
        # owners: (where in seen, provider) of each provider that announced one
        seen = " "
        owners = []
        for provider in providers:
            if not getattr(provider, "discover", False) or not hasattr(
                provider, "discovery_entities"
            ):
                continue  # a plain object or service from COMPONENTS has no entities
            try:
                entities = provider.discovery_entities()
            except Exception as e:  # one broken component must not hide the others
                self.problems.append(
                    (getattr(provider, "name", "?"), "%s: %s" % (type(e).__name__, e))
                )
                continue
            for object_id, platform, fields in entities:
                if ha_id(object_id) != object_id:
                    self.problems.append((object_id, "object id may only use [a-zA-Z0-9_-]"))
                    continue
                at = seen.find(" %s " % object_id)
                if at >= 0:
                    owner = [p for start, p in owners if start <= at][-1]
                    owner = getattr(owner, "name", object_id)
                    self.problems.append((object_id, "id already used by %s: dropped" % owner))
                    continue
                if not owners or owners[-1][1] is not provider:
                    owners.append((len(seen) - 1, provider))
                seen += object_id + " "
                yield object_id, platform, self._component(object_id, platform, fields)

    def payloads(self, providers, removed=None):
        """Every (topic, payload) to publish for providers: a dict, or "" to remove.

        removed: {object_id: platform} of entities that went away since the last publication.
        """
        entities = list(self.entities_iter(providers))
        removed = removed or {}
        if self.per_entity:
            out = []
            for object_id, platform, config in entities:
                blocks = self._blocks()
                config["dev"] = blocks["dev"]
                config["o"] = blocks["o"]
                config["avty_t"] = self.availability
                del config["p"]
                out.append((self.entity_topic(platform, object_id), config))
            for object_id, platform in removed.items():
                out.append((self.entity_topic(platform, object_id), ""))
            return out
        components = {}
        for object_id, platform in removed.items():
            components[object_id] = {"p": platform}
        for object_id, _, config in entities:
            components[object_id] = config
        if not components:
            return [(self.device_topic(), "")]
        blocks = self._blocks()
        payload = {"dev": blocks["dev"], "o": blocks["o"], "avty_t": self.availability,
                   "cmps": components}  # fmt: skip
        return [(self.device_topic(), payload)]

    def device_text(self, providers, removed=None):
        """The device payload as JSON bytes (device_chunks joined); None: nothing to announce."""
        return b"".join(self.device_chunks(providers, removed)) or None

    def device_chunks(self, providers, removed=None):
        """The device payload (device mode) as JSON bytes, one component at a time.

        Same content as payloads()[0], but the whole dict tree never exists at once. Yields
        nothing when there is nothing to announce (then publish "" to remove the device).
        Deterministic: Discovery runs it twice, once to size the payload and once to fill it,
        so the payload is one allocation and the pieces never exist at once (on a small heap
        the largest free block, not the free total, is the limit).
        """
        import json

        first = True
        removed = removed or {}
        for object_id, platform in removed.items():
            yield self._head() if first else b", "
            first = False
            yield ("%s: %s" % (json.dumps(object_id), json.dumps({"p": platform}))).encode()
        for object_id, _, config in self.entities_iter(providers):
            yield self._head() if first else b", "
            first = False
            yield json.dumps(object_id).encode() + b": "
            # the largest piece, alone: its text and its bytes, no third copy joining them
            yield json.dumps(config).encode()
        if not first:
            yield b"}}"

    def _head(self):
        import json

        head = json.dumps(self._blocks())
        return head[:-1].encode() + b', "cmps": {'

    def device_topic(self):
        return "%s/device/%s/config" % (self.prefix, self.node_id)

    def entity_topic(self, platform, object_id):
        return "%s/%s/%s/%s/config" % (self.prefix, platform, self.node_id, object_id)
