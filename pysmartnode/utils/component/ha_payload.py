"""Home Assistant MQTT discovery payloads and the rules they follow (ids, units per device
class, the device-based and per-entity layouts). ha_publish.py publishes them; like it, this is
loaded for a publication and dropped after it. Plain functions of the node's settings (the tuple
settings() makes), no classes: each class is ~0.5-0.8 KiB of heap at the publication, the first
connect's peak; pure (no I/O), so tests can check every payload.

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

from pysmartnode.platform import const

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


_NODE = const(0)  # settings(): the node's id as HA ids take it
_BASE = const(1)  # `<home>/<device id>/`, what a device topic `./x` stands for
_PREFIX = const(2)
_AVAILABILITY = const(3)
_NAME = const(4)
_MODEL = const(5)
_VERSION = const(6)


def settings(device_id, home, prefix, availability, device_name=None, model=None,
             version=None, per_entity=False):  # fmt: skip
    """The tuple every function here takes (its last item: per_entity).

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
    return (ha_id(device_id), "%s/%s/" % (home, device_id), prefix, availability,
            device_name or device_id, model, version, per_entity)  # fmt: skip


def blocks(s):
    """The dev and o blocks: {"dev": ..., "o": ..., "avty_t": ...}."""
    device = {"ids": [s[_NODE]], "name": s[_NAME], "mf": "pysmartnode"}
    if s[_MODEL]:
        device["mdl"] = s[_MODEL]
    if s[_VERSION]:
        device["sw"] = s[_VERSION]
    origin = {"name": "pysmartnode", "url": _ORIGIN_URL}
    if s[_VERSION]:
        origin["sw"] = s[_VERSION]
    return {"dev": device, "o": origin, "avty_t": s[_AVAILABILITY]}


def extra(s, object_id, platform, fields, problems):
    """What an entity's config has beside its fields (which are never changed): {key: value},
    None for a field left out. Small: the device payload is made from fields and this, with no
    config dict of a dozen keys at the publication's peak. What it changes goes to problems."""
    uniq_id = "%s_%s" % (s[_NODE], object_id)
    out = {"p": platform, "uniq_id": uniq_id, "qos": 1, "obj_id": None,
           "def_ent_id": "%s.%s" % (platform, entity_id(uniq_id))}  # fmt: skip
    # obj_id: ignored since HA 2026.4; def_ent_id replaces it
    if platform != "sensor":
        return out
    device_class = fields.get("dev_cla")
    if device_class:
        why = unit_problem(device_class, fields.get("unit_of_meas"))
        if why:
            problems.append((object_id, why + "; announced without device class"))
            out["dev_cla"] = device_class = None
    state_class = fields.get("stat_cla")
    if state_class == "measurement" and device_class and " %s " % device_class in _TOTAL_ONLY:
        out["stat_cla"] = "total_increasing"
    if not fields.get("unit_of_meas"):
        out["unit_of_meas"] = None
    return out


def value(s, key, value):
    """A field's value as announced: device topics (`./x`) made full."""
    if key[-2:] == "_t" and isinstance(value, str) and value[:2] == "./":
        return s[_BASE] + value[2:]
    return value


def entities(s, providers, problems, raw=False):
    """(object_id, platform, config) of every discovered entity of providers (a list), one at a
    time, each object id once (a duplicate is dropped and recorded in problems, as (object_id,
    why)). raw: the entity's fields instead of its config (see extra())."""
    # A generator, its frame the state (a class and its instance were 0.6 KiB). The ids so far
    # as 2-byte hashes in one bytes object, not a dict or a text holding every id to the end:
    # the publication's peak is at its last entity, and a text grown by each id, or a list of
    # hashes, wanted a longer block every time (the 5+3 node's ~260 bytes failed first at its
    # edge; here ~40). Only a matching hash looks at the ids again (_taken)
    seen = b""
    count = 0  # entities listed so far, dropped ones too
    for provider in providers:
        for object_id, platform, fields in _listed(provider, problems) or ():
            count += 1
            if ha_id(object_id) != object_id:
                problems.append((object_id, "object id may only use [a-zA-Z0-9_-]"))
                continue
            key = _key(object_id)
            if seen.find(key) >= 0:  # also across two hashes: then _taken finds none
                owner = _taken(providers, object_id, count - 1)
                if owner is not None:
                    owner = getattr(owner, "name", object_id)
                    problems.append((object_id, "id already used by %s: dropped" % owner))
                    continue
            seen += key
            if not raw:
                config = {"p": platform}
                more = extra(s, object_id, platform, fields, problems)
                for name, field in fields.items():
                    if name not in more:
                        config[name] = value(s, name, field)
                for name, field in more.items():
                    if field is not None:
                        config[name] = field
                fields = config
            yield object_id, platform, fields


def payloads(s, providers, removed, problems):
    """Every (topic, payload) to publish for providers (a list): a dict, or "" to remove.

    removed: {object_id: platform} of entities that went away since the last publication.
    What was dropped or changed goes to problems.
    """
    found = list(entities(s, providers, problems))
    removed = removed or {}
    if s[-1]:  # per entity
        out = []
        for object_id, platform, config in found:
            head = blocks(s)
            config["dev"] = head["dev"]
            config["o"] = head["o"]
            config["avty_t"] = s[_AVAILABILITY]
            del config["p"]
            out.append((entity_topic(s, platform, object_id), config))
        for object_id, platform in removed.items():
            out.append((entity_topic(s, platform, object_id), ""))
        return out
    components = {}
    for object_id, platform in removed.items():
        components[object_id] = {"p": platform}
    for object_id, _, config in found:
        components[object_id] = config
    if not components:
        return [(device_topic(s), "")]
    head = blocks(s)
    payload = {"dev": head["dev"], "o": head["o"], "avty_t": s[_AVAILABILITY],
               "cmps": components}  # fmt: skip
    return [(device_topic(s), payload)]


def device_topic(s):
    return "%s/device/%s/config" % (s[_PREFIX], s[_NODE])


def entity_topic(s, platform, object_id):
    return "%s/%s/%s/%s/config" % (s[_PREFIX], platform, s[_NODE], object_id)


def _taken(providers, object_id, left):
    # Rare (the same id twice, or two ids with one hash): the provider of an entity among the
    # first `left` with this id, or None. Lists them again, as they were listed
    for provider in providers:
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
