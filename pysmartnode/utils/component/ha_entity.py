"""Home Assistant discovery's rarer calls and whole configs: the settings tuple, an entity's
config as a dict, the per-entity payloads (HA older than 2024.11, and what the tests check),
removals, the per-entity clean-up. Calls of the node's Discovery (discovery.py), which loads
this module for each one and drops it at once; the device payload is ha_publish.py's.
"""

from pysmartnode import node
from pysmartnode.utils.component import ha_payload

# 12 names in this module with __name__ and __file__: its table has 12 slots (a 13th: 17; the
# build's refresh() loading 272 B then failed first at the 5+3 node's edge: refresh stays in
# discovery.py)


def settings(device_id, home, prefix, availability, device_name=None, model=None,
             version=None, per_entity=False):  # fmt: skip
    """The tuple ha_payload's functions take: (node id, `<home>/<device id>/`, prefix,
    availability, device name, model, version, per_entity).

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
    # The node id: device_id with every character outside [a-zA-Z0-9_-] made `_` (topic ids);
    # a valid one is device_id itself, no copy held for good
    node_id = device_id
    for i in range(len(device_id)):
        if device_id[i] not in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-":
            node_id = node_id[:i] + "_" + node_id[i + 1 :]
    return (node_id, "%s/%s/" % (home, device_id), prefix, availability,
            device_name or device_id, model, version, per_entity)  # fmt: skip


def config(s, object_id, platform, fields, problems):
    """An entity's config as a dict: its fields (device topics made full) and what
    ha_payload.extra() adds, in the device payload's order."""
    out = {"p": platform}
    more = ha_payload.extra(s, object_id, platform, fields, problems)
    for key, value in fields.items():
        if key not in more:
            out[key] = ha_payload.value(s, key, value)
    for key, value in more.items():
        if value is not None:
            out[key] = ha_payload.value(s, key, value)
    return out


def payloads(s, providers, removed, problems):
    """Every (topic, payload) to publish for providers (a list or tuple): a dict, or "" to remove.

    removed: {object_id: platform} of entities that went away since the last publication.
    What was dropped or changed goes to problems, as (object_id, why).
    """
    found = [(object_id, platform, config(s, object_id, platform, fields, problems))
             for object_id, platform, fields in ha_payload.entities(s, providers, problems,
                                                                    None)]  # fmt: skip
    removed = removed or {}
    head = ha_payload.blocks(s)
    if s[-1]:  # per entity
        out = []
        for object_id, platform, entity in found:
            entity["dev"] = head["dev"]
            entity["o"] = head["o"]
            entity["avty_t"] = head["avty_t"]
            del entity["p"]
            out.append((entity_topic(s, platform, object_id), entity))
        for object_id, platform in removed.items():
            out.append((entity_topic(s, platform, object_id), ""))
        return out
    components = {}
    for object_id, platform in removed.items():
        components[object_id] = {"p": platform}
    for object_id, _, entity in found:
        components[object_id] = entity
    topic = "%s/device/%s/config" % (s[2], s[0])  # prefix, node id
    if not components:
        return [(topic, "")]
    return [(topic, {"dev": head["dev"], "o": head["o"], "avty_t": head["avty_t"],
                     "cmps": components})]  # fmt: skip


def entity_topic(s, platform, object_id):
    return "%s/%s/%s/%s/config" % (s[2], platform, s[0], object_id)  # prefix, node id


def gone(discovery, entities):
    """Entities ({object_id: platform}) that went away: removed by the next publish()."""
    if discovery._removed is None:
        discovery._removed = {}
    discovery._removed.update(entities)


async def remove(discovery, component):
    """Removes component's entities from Home Assistant."""
    gone(discovery, {entry[0]: entry[1] for entry in component.discovery_entities()})
    if discovery.ready():
        await discovery.publish()


async def clear_if_stale(discovery, topic):
    # Per-entity mode: a retained config of an entity this node no longer has is cleared
    s = discovery.settings
    mqtt = node.mqtt  # kept: a stop takes node.mqtt away while this may still write
    if mqtt is None:
        return  # the node stops
    topic = mqtt.topic(topic)
    providers = [] if node.status is None else [node.status]
    providers.extend(node.components.values())
    for object_id, platform, _ in ha_payload.entities(s, providers, [], None):
        if entity_topic(s, platform, object_id) == topic:
            return
    from pysmartnode import logging

    logging.getLogger("discovery").info("clearing %s: no such entity on this node now", topic)
    await mqtt.publish(topic, "", True, 1)


async def _on_retained(discovery, topic, msg, retained):
    # Per-entity mode: an entity of an earlier run that this one no longer has is cleared
    # (an empty retained config), or Home Assistant keeps it for ever. Live copies of our
    # own configs come back unretained and are ignored.
    if not retained or not msg:
        return
    if not discovery.ready():  # judged once this connection's config is out
        if discovery._stale is None:
            discovery._stale = []
        discovery._stale.append(topic)
        return
    await clear_if_stale(discovery, topic)
