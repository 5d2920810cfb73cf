"""Cross-check: Home Assistant's own discovery schemas (HA 2025.4.4 in its own venv, built on
first use, see harness/ha_check.py) agree with our rules on the reference payloads, and never
reject a payload our rules let through."""

from __future__ import annotations

import json

from harness import ha_check
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
