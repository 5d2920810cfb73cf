"""ComponentBase's rarely used methods (base._RARE): component.<name>(...) calls
<name>(component, ...) here. Loaded for each call and dropped after it (ComponentBase.__getattr__):
_subscribe only for components with topics of their own, and the two hooks' defaults only for
components without entities or state. ComponentBase's table then holds 12 names, not 15 (a class
table of 12 slots, not 17: 80 B, and three function objects less).
"""


def _subscribe(component, topic, callback, *args, **kwargs):
    """node.mqtt.subscribe(topic, callback, qos=1, restore_state=False, parse_json=False),
    undone by stop(). topic: `./x` or a full topic."""
    component._mqtt.subscribe(topic, callback, *args, **kwargs)
    if not component._subscriptions:
        component._subscriptions = []
    component._subscriptions.append((topic, callback))


def discovery_entities(component):
    """The Home Assistant entities of this component, for the discovery builder.

    Returns a list of (object_id, platform, fields): object_id is `name` or
    `name_<suffix>` (unique in the node); platform an HA platform ("sensor", "switch",
    "button", "binary_sensor", ...); fields a dict of HA discovery keys in their short
    form ("stat_t", "cmd_t", "dev_cla", "unit_of_meas", "val_tpl", "name", ...). Topics may
    be device topics (`./x`). The builder adds uniq_id, def_ent_id, qos, device, origin and
    availability. The base class has none; a component with entities overrides this.
    """
    return []


async def _publish_state(component):
    """Hook: publish the current state again (after discovery on every connect and when
    Home Assistant comes online). Sensors, switches and binary sensors implement it."""
