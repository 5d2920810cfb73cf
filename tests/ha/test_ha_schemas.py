"""Cross-check: Home Assistant's own discovery schemas (HA 2025.4.4 in its own venv, built on
first use, see harness/ha_check.py) agree with our rules on the reference payloads, and never
reject a payload our rules let through."""

from __future__ import annotations

import json

from harness import ha_check
from harness import ha_rules as rules
from harness.ha_rules import validate_device_discovery, validate_entity_discovery
from test_ha_rules import (
    BAD_DEVICE,
    BAD_ENTITY,
    ENTITY,
    ENTITY_TOPIC,
    EXTRA_COMPONENTS,
    REFERENCE,
    TOPIC,
    payload,
)


def _text(data):
    return data if isinstance(data, str) else json.dumps(data)


def test_home_assistant_accepts_the_reference_payloads(ha_validate):
    everything = payload()
    everything["cmps"].update(EXTRA_COMPONENTS)
    messages = [
        (TOPIC, json.dumps(REFERENCE)),
        (TOPIC, json.dumps(everything)),
        (ENTITY_TOPIC, json.dumps(ENTITY)),
        (TOPIC, ""),
    ]
    assert ha_validate(messages) == []


def test_home_assistant_rejects_what_it_must(ha_validate):
    # the reference's verified rejections (homeassistant-2026.md §5.3)
    cases = ["top_level_tilde", "top_level_name", "no_origin", "origin_without_name",
             "no_unique_id", "avty_t_and_avty_list", "unsupported_platform", "unit_C_for_temperature"]  # fmt: skip
    messages = [(BAD_DEVICE[c][0], _text(BAD_DEVICE[c][1])) for c in cases]
    problems = ha_validate(messages)
    for topic, _ in messages:
        assert any(p.startswith(topic + ": ") for p in problems)
    assert len(problems) >= len(cases), problems


def test_our_rules_reject_everything_home_assistant_rejects(ha_validate):
    # ha_validate: the venv is there (or the test skipped); one run of HA for all messages
    messages = [(t, _text(d)) for t, d, _ in BAD_DEVICE.values()]
    messages += [(t, _text(d)) for t, d, _ in BAD_ENTITY.values()]
    for message, ha in zip(messages, ha_check.validate(messages), strict=True):
        if not ha:
            continue
        ours = (
            validate_device_discovery(*message)
            if "/device/" in message[0]
            else validate_entity_discovery(*message)
        )
        assert ours, "HA rejects what our rules accept: %s" % ha


HA_TABLES = """
import json
from homeassistant.components.sensor.const import DEVICE_CLASS_UNITS, DEVICE_CLASS_STATE_CLASSES
from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.components.mqtt import abbreviations as a
print(json.dumps({
    "units": {k.value: [None if u is None else str(u) for u in v]
              for k, v in DEVICE_CLASS_UNITS.items()},
    "state_classes": {k.value: [s.value for s in v] for k, v in DEVICE_CLASS_STATE_CLASSES.items()},
    "binary": [c.value for c in BinarySensorDeviceClass],
    "abbreviations": a.ABBREVIATIONS, "device": a.DEVICE_ABBREVIATIONS,
}))
"""


def test_our_tables_include_everything_home_assistant_2025_4_knows(ha_validate):
    # HA 2026.11's tables are ours; every unit, class and abbreviation of the HA we can run
    # must be in them (a unit HA 2025.4 allows and ours does not is a transcription slip)
    ha = json.loads(ha_check.run_code(HA_TABLES))
    for device_class, units in ha["units"].items():
        ours = rules.SENSOR_DEVICE_CLASS_UNITS[device_class]
        for unit in units:
            assert rules.AMBIGUOUS_UNITS.get(unit, unit) in ours, (device_class, unit)
    for device_class, classes in ha["state_classes"].items():
        assert set(classes) <= set(rules.SENSOR_DEVICE_CLASS_STATE_CLASSES[device_class])
    assert set(ha["binary"]) <= rules.BINARY_SENSOR_DEVICE_CLASSES
    removed = {"obj_id", "clrm"}  # object_id: ignored since 2026.4; color_mode: gone in 2026.5
    for short, full in ha["abbreviations"].items():
        assert short in removed or rules.ABBREVIATIONS.get(short) == full, (short, full)
    assert ha["device"].items() <= rules.DEVICE_ABBREVIATIONS.items()
