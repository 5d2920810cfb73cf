"""Home Assistant MQTT discovery payloads and the rules they follow (ids, units per device
class, the device-based and per-entity layouts). ha_publish.py publishes them; like it, this is
loaded for a publication and dropped after it; ha_entity.py has the whole-config forms (per-entity
mode, tests). Plain functions of the node's settings (the tuple ha_entity.settings() makes), no
classes: each class is ~0.5-0.8 KiB of heap at the publication, the first connect's peak; pure
(no I/O), so tests can check every payload.

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

# 10 names in this module with __name__ and __file__: its table has 10 slots (an 11th: 12, a
# 13th: 17, a 272 B block wanted at the publication). Hence no module constants: the units
# table is unit_problem's, the id characters are written out where they are checked


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
    # The units HA accepts per sensor device class (the classes of definitions.py),
    # "class:u1|u2;": a constant of this function, not a name of the module (its table)
    units = (
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
    start = units.find(";%s:" % device_class)
    if start < 0:
        return None  # a class without a table here: HA's own check decides
    at = start + len(device_class) + 1  # the ':' before the first unit
    end = units.find(";", at)
    while at < end:  # unit by unit, not a list of them all (up to 256 B at the peak)
        bar = units.find("|", at + 1, end)
        bar = end if bar < 0 else bar
        if units[at + 1 : bar] == (unit or ""):
            return None
        at = bar
    allowed = units[start + len(device_class) + 2 : end].split("|")
    if allowed == [""]:
        return "device class %s takes no unit, got %r" % (device_class, unit)
    return "unit %r is not valid for device class %s (use %s)" % (
        unit,
        device_class,
        ", ".join(u or "none" for u in allowed),
    )


def blocks(s):
    """The dev and o blocks of settings s: {"dev": ..., "o": ..., "avty_t": ...}."""
    node_id, _, _, availability, name, model, version, _ = s
    device = {"ids": [node_id], "name": name, "mf": "pysmartnode"}
    if model:
        device["mdl"] = model
    if version:
        device["sw"] = version
    origin = {"name": "pysmartnode", "url": "https://github.com/kevinkk525/pysmartnode"}
    if version:
        origin["sw"] = version
    return {"dev": device, "o": origin, "avty_t": availability}


def extra(s, object_id, platform, fields, problems):
    """What an entity's config has beside its fields (which are never changed): {key: value},
    None for a field left out; each value as value() announces it. Small: the device payload
    is made from fields and this, with no config dict of a dozen keys at the publication's
    peak; its ids are made by value() as they are written (uniq_id: the object id;
    def_ent_id: (platform, object id)), not held. What it changes goes to problems (a list, or
    None: not recorded)."""
    out = {"p": platform, "uniq_id": object_id, "qos": 1, "obj_id": None,
           "def_ent_id": (platform, object_id)}  # fmt: skip
    # obj_id: ignored since HA 2026.4; def_ent_id replaces it
    if platform != "sensor":
        return out
    device_class = fields.get("dev_cla")
    if device_class:
        why = unit_problem(device_class, fields.get("unit_of_meas"))
        if why:
            if problems is not None:
                problems.append((object_id, why + "; announced without device class"))
            out["dev_cla"] = device_class = None
    # a measurement of these device classes must be total or total_increasing
    if fields.get("stat_cla") == "measurement" and device_class in ("energy", "gas", "water",
                                                                    "volume"):  # fmt: skip
        out["stat_cla"] = "total_increasing"
    if not fields.get("unit_of_meas"):
        out["unit_of_meas"] = None
    return out


def value(s, key, value):
    """A field's or extra()'s value as announced: device topics (`./x`) made full, extra()'s
    ids made (`<node id>_<object_id>`, `<platform>.<entity id of that>`)."""
    if key == "uniq_id":  # extra()'s (a field's is never announced): the object id
        return "%s_%s" % (s[0], value)
    if key == "def_ent_id":  # extra()'s: (platform, object id)
        return "%s.%s" % (value[0], entity_id("%s_%s" % (s[0], value[1])))
    if key[-2:] == "_t" and isinstance(value, str) and value[:2] == "./":
        return s[1] + value[2:]  # `<home>/<device id>/`
    return value


def entities(s, providers, problems, removed):
    """(object_id, platform, fields) of every discovered entity of providers (a tuple or list),
    one at a time, each object id once (a duplicate is dropped and recorded in problems, as
    (object_id, why); problems None: not recorded, as at a send of a payload sized before). The
    config announced is the fields and extra(). First, those of removed ({object_id: platform},
    entities that went away; or None) as (object_id, platform, None)."""
    # removed has no default: the function object is 32 B, not 64 (at the publication's peak)
    # A generator, its frame the state (a class and its instance were 0.6 KiB), with few
    # locals and loops (each loop running holds 4 words of it). The ids so far as 2-byte hashes
    # in one bytes object, not a dict or a text holding every id to the end: the publication's
    # peak is at its last entity, and a text grown by each id, or a list of hashes, wanted a
    # longer block every time (the 5+3 node's ~260 bytes failed first at its edge; here ~40).
    # Only a matching hash looks at the ids again (_taken)
    for object_id in removed or ():
        yield object_id, removed[object_id], None
    seen = b""
    count = n = 0  # entities listed so far (dropped ones too); the provider's index
    while n < len(providers):  # a `for` here held 4 more words of this frame
        for object_id, platform, fields in _listed(providers[n], problems) or ():
            count += 1
            key = i = 0  # a 16-bit hash of the id, as 2 bytes; ids only [a-zA-Z0-9_-]
            while i < len(object_id) and object_id[i] in (
                "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
            ):  # fmt: skip
                key = (key * 31 + ord(object_id[i])) % 65521
                i += 1
            if i < len(object_id):  # a character an id may not have
                if problems is not None:
                    problems.append((object_id, "object id may only use [a-zA-Z0-9_-]"))
                continue
            key = bytes((key >> 8, key & 255))
            # also across two hashes: then _taken finds none
            if seen.find(key) >= 0 and _taken(providers, object_id, count - 1, problems):
                continue
            seen += key
            key = None  # its 2 bytes (32 B) not held while this entity is written
            yield object_id, platform, fields
        n += 1


def _taken(providers, object_id, left, problems):
    # Rare (the same id twice, or two ids with one hash): True, and the problem recorded, if an
    # entity among the first `left` has this id. Lists them again, as they were listed
    for provider in providers:
        if not left:
            break
        for entry in _listed(provider, None) or ():
            if entry[0] == object_id:
                if problems is not None:
                    owner = getattr(provider, "name", object_id)
                    problems.append((object_id, "id already used by %s: dropped" % owner))
                return True
            left -= 1
            if not left:
                break
    return False


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
