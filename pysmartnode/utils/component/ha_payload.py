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
    # No list of characters (a 256 B block for a 30-character id, at the publication's peak):
    # a valid id is text itself; else it is made from the first bad character on
    out = None
    for i in range(len(text)):
        c = text[i]
        if (c.isalpha() or c.isdigit() or c in "_-") and ord(c) < 128:
            if out is not None:
                out += c
        else:
            out = (text[:i] if out is None else out) + "_"
    return text if out is None else out


def entity_id(text):
    """An entity id's object part: lowercase [a-z0-9_], no doubled or edge `_`."""
    text = text.lower()
    if text[:1] != "_" and text[-1:] != "_" and "__" not in text:
        for c in text:  # already one (a node's uniq_id mostly is): nothing made
            if not ("a" <= c <= "z" or "0" <= c <= "9" or c == "_"):
                break
        else:
            return text or "node"
    out = ""
    for c in text:
        if not (("a" <= c <= "z") or ("0" <= c <= "9")):
            c = "_"
        if c != "_" or (out and out[-1] != "_"):
            out += c
    return out.rstrip("_") or "node"


def unit_problem(device_class, unit):
    """Why HA (≥ 2025.7) rejects unit for device_class, or None if it takes it."""
    start = _UNITS.find(";%s:" % device_class)
    if start < 0:
        return None  # a class without a table here: HA's own check decides
    at = start + len(device_class) + 1  # the ':' before the first unit
    end = _UNITS.find(";", at)
    while at < end:  # unit by unit, not a list of them all (up to 256 B at the peak)
        bar = _UNITS.find("|", at + 1, end)
        bar = end if bar < 0 else bar
        if _UNITS[at + 1 : bar] == (unit or ""):
            return None
        at = bar
    allowed = _UNITS[start + len(device_class) + 2 : end].split("|")
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
        extra = self._extra(object_id, platform, fields)
        for key, value in fields.items():
            if key not in extra:
                config[key] = self._value(key, value)
        for key, value in extra.items():
            if value is not None:
                config[key] = value
        return config

    def _extra(self, object_id, platform, fields):
        # What an entity's config has beside its fields (which are never changed): {key:
        # value}, None for a field left out. Small: the device payload is made from fields and
        # this, with no config dict of a dozen keys at the publication's peak
        uniq_id = "%s_%s" % (self.node_id, object_id)
        extra = {"p": platform, "uniq_id": uniq_id, "qos": 1, "obj_id": None,
                 "def_ent_id": "%s.%s" % (platform, entity_id(uniq_id))}  # fmt: skip
        # obj_id: ignored since HA 2026.4; def_ent_id replaces it
        if platform != "sensor":
            return extra
        device_class = fields.get("dev_cla")
        if device_class:
            why = unit_problem(device_class, fields.get("unit_of_meas"))
            if why:
                self.problems.append((object_id, why + "; announced without device class"))
                extra["dev_cla"] = device_class = None
        state_class = fields.get("stat_cla")
        if state_class == "measurement" and device_class and " %s " % device_class in _TOTAL_ONLY:
            extra["stat_cla"] = "total_increasing"
        if not fields.get("unit_of_meas"):
            extra["unit_of_meas"] = None
        return extra

    def _value(self, key, value):
        # a field's value as announced: device topics (`./x`) made full
        if key[-2:] == "_t" and isinstance(value, str) and value[:2] == "./":
            return self._base + value[2:]
        return value

    def entities_iter(self, providers, raw=False):
        """(object_id, platform, config) of every discovered entity of providers, one at a
        time, each object id once (a duplicate is dropped and recorded in self.problems).
        raw: the entity's fields instead of its config (see _extra)."""
        self.problems = []
        return _Entities(self, providers, raw)

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
        """The device payload as JSON bytes, the pieces the node publishes joined (ha_publish's
        Chunks, one component at a time); None: nothing to announce."""
        from pysmartnode.utils.component.ha_publish import Chunks

        return b"".join(Chunks(self, providers, removed)) or None

    def device_topic(self):
        return "%s/device/%s/config" % (self.prefix, self.node_id)

    def entity_topic(self, platform, object_id):
        return "%s/%s/%s/%s/config" % (self.prefix, platform, self.node_id, object_id)


class _Entities:
    # Builder.entities_iter(): an iterator object, no generator (a generator's state is one
    # 200-300 B block of the heap, and at the first connect the idle node's heap has few such
    # holes left); its own state here is a few small objects.
    # The ids so far as 2-byte hashes in one bytes object (_key), not a dict or a text holding
    # every id to the end: the publication's peak is at its last entity, and a text grown by
    # each id, or a list of hashes, wanted a longer block every time (the 5+3 node's ~260 bytes
    # failed first at its edge; here ~40). Only a matching hash looks at the ids again (_taken).

    def __init__(self, builder, providers, raw):
        self._builder = builder
        self._raw = raw
        self._all = providers  # listed again by _taken: a list, not a one-time iterator
        self._providers = iter(providers)
        self._provider = self._entities = None  # the provider whose entities come now
        self._seen = b""  # _key() of each id so far
        self._count = 0  # entities listed so far, dropped ones too

    def __iter__(self):
        return self

    def __next__(self):
        problems = self._builder.problems
        while True:
            if self._entities is None:
                provider = next(self._providers)  # StopIteration: all done
                entities = _listed(provider, problems)
                if entities is None:
                    continue
                self._entities = iter(entities)  # failing here fails the publication
                self._provider = provider
            try:
                object_id, platform, fields = next(self._entities)
            except StopIteration:
                self._entities = None
                continue
            self._count += 1
            if ha_id(object_id) != object_id:
                problems.append((object_id, "object id may only use [a-zA-Z0-9_-]"))
                continue
            key = _key(object_id)
            if self._seen.find(key) >= 0:  # also across two hashes: then _taken finds none
                owner = self._taken(object_id)
                if owner is not None:
                    owner = getattr(owner, "name", object_id)
                    problems.append((object_id, "id already used by %s: dropped" % owner))
                    continue
            self._seen += key
            if not self._raw:
                fields = self._builder._component(object_id, platform, fields)
            return object_id, platform, fields

    def _taken(self, object_id):
        # Rare (the same id twice, or two ids with one hash): the provider of an entity before
        # this one with this id, or None. Lists them again, as they were listed
        left = self._count - 1  # the entities before this one
        for provider in self._all:
            if not left:
                break
            for entry in _listed(provider, None) or ():
                if entry[0] == object_id:
                    return provider
                left -= 1
                if not left:
                    break
        return None


def _listed(provider, problems):
    # provider.discovery_entities(); None for a plain object or a service from COMPONENTS (no
    # entities), or a provider whose call raised (recorded in problems, if given)
    if not getattr(provider, "discover", False) or not hasattr(provider, "discovery_entities"):
        return None
    try:
        return provider.discovery_entities()
    except MemoryError:  # no heap now, nothing broken: the publication fails and is tried
        raise  # again; a payload without these entities would remove them from Home Assistant
    except Exception as e:  # one broken component must not hide the others
        if problems is not None:
            problems.append((getattr(provider, "name", "?"), "%s: %s" % (type(e).__name__, e)))
        return None


def _key(object_id):
    # A 16-bit hash of an id ([a-zA-Z0-9_-]) as 2 bytes
    key = 0
    for c in object_id:
        key = (key * 31 + ord(c)) % 65521
    return bytes((key >> 8, key & 255))
