"""Our encoding of Home Assistant's discovery rules (tests/harness/ha_rules.py): the reference's
payloads pass, and every rule has a payload that must fail for that rule."""

from __future__ import annotations

import copy
import json

import pytest
from harness.ha_rules import (
    validate_device_discovery,
    validate_entity_discovery,
    validate_unique_ids,
)

TOPIC = "homeassistant/device/pysn_a4cf12a1b2c3/config"
BASE = "pysn/a4cf12a1b2c3"

# homeassistant-2026.md §2, verbatim: valid on HA 2025.4.4 and 2026.2.3, nothing 2026.11 rejects.
REFERENCE = {
    "dev": {
        "ids": ["pysn_a4cf12a1b2c3"],
        "cns": [["mac", "a4:cf:12:a1:b2:c3"]],
        "name": "Greenhouse",
        "mf": "pysmartnode",
        "mdl": "ESP32-WROOM-32",
        "sw": "7.0.0",
        "hw": "rev2",
        "cu": "http://192.168.1.50/",
    },
    "o": {"name": "pysmartnode", "sw": "7.0.0", "url": "https://github.com/kevinkk525/pysmartnode"},
    "avty_t": BASE + "/status",
    "cmps": {
        "temp": {
            "p": "sensor",
            "uniq_id": "pysn_a4cf12a1b2c3_temp",
            "def_ent_id": "sensor.greenhouse_temperature",
            "dev_cla": "temperature",
            "unit_of_meas": "°C",
            "stat_cla": "measurement",
            "sug_dsp_prc": 1,
            "stat_t": BASE + "/temp",
            "exp_aft": 900,
            "qos": 1,
        },
        "door": {
            "p": "binary_sensor",
            "uniq_id": "pysn_a4cf12a1b2c3_door",
            "name": "Door",
            "dev_cla": "door",
            "stat_t": BASE + "/door",
            "qos": 1,
        },
        "relay": {
            "p": "switch",
            "uniq_id": "pysn_a4cf12a1b2c3_relay",
            "name": "Relay",
            "stat_t": BASE + "/relay",
            "cmd_t": BASE + "/relay/set",
            "qos": 1,
        },
        "restart": {
            "p": "button",
            "uniq_id": "pysn_a4cf12a1b2c3_restart",
            "dev_cla": "restart",
            "ent_cat": "config",
            "cmd_t": BASE + "/restart",
            "pl_prs": "RESTART",
            "qos": 1,
        },
        "fw": {
            "p": "update",
            "uniq_id": "pysn_a4cf12a1b2c3_fw",
            "dev_cla": "firmware",
            "ent_cat": "config",
            "stat_t": BASE + "/fw",
            "cmd_t": BASE + "/fw/install",
            "pl_inst": "INSTALL",
            "qos": 1,
        },
    },
}

# More platforms the builder may emit, each valid.
EXTRA_COMPONENTS = {
    "level": {"p": "number", "uniq_id": "n1", "name": "Level", "cmd_t": "a/n/set", "min": 0,
              "max": 10, "step": 0.5, "mode": "slider"},
    "speed": {"p": "select", "uniq_id": "s1", "name": "Speed", "cmd_t": "a/s/set",
              "ops": ["low", "high"]},
    "label": {"p": "text", "uniq_id": "t1", "name": "Label", "cmd_t": "a/t/set", "max": 32},
    "lamp": {"p": "light", "uniq_id": "l1", "name": None, "schema": "json", "cmd_t": "a/l/set",
             "stat_t": "a/l", "sup_clrm": ["brightness"]},
    "heat": {"p": "climate", "uniq_id": "c1", "name": "Heating", "modes": ["off", "heat"],
             "temp_cmd_t": "a/c/set", "min_temp": 5, "max_temp": 30, "precision": 0.5},
    "cpu": {"p": "sensor", "uniq_id": "u1", "name": "CPU", "unit_of_meas": "%",
            "stat_cla": "measurement", "stat_t": "~/cpu", "~": "a/x",
            "val_tpl": "{{ value_json.cpu }}"},
    "up": {"p": "sensor", "uniq_id": "u2", "dev_cla": "duration", "unit_of_meas": "s",
           "stat_cla": "total_increasing", "stat_t": "a/up", "ent_cat": "diagnostic"},
    "mode": {"p": "sensor", "uniq_id": "u3", "name": "Mode", "dev_cla": "enum",
             "ops": ["a", "b"], "stat_t": "a/mode"},
    "pm": {"p": "sensor", "uniq_id": "u4", "dev_cla": "pm25", "unit_of_meas": "\u00b5g/m³",
           "stat_t": "a/pm"},
}  # fmt: skip


def payload(**changes):
    """The reference payload with `changes` applied: `cmps__temp__unit_of_meas="K"` sets a key
    inside a component, the value `_DELETE` removes the key."""
    data = copy.deepcopy(REFERENCE)
    for path, value in changes.items():
        keys = path.split("__")
        target = data
        for key in keys[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
    return data


_DELETE = object()


def with_component(cid, body):
    data = payload()
    data["cmps"][cid] = body
    return data


def test_the_reference_payload_is_valid():
    assert validate_device_discovery(TOPIC, json.dumps(REFERENCE)) == []


def test_the_reference_payload_is_valid_as_bytes_and_as_dict():
    assert validate_device_discovery(TOPIC, json.dumps(REFERENCE).encode()) == []
    assert validate_device_discovery(TOPIC, REFERENCE) == []


def test_more_platforms_are_valid():
    data = payload()
    data["cmps"].update(EXTRA_COMPONENTS)
    assert validate_device_discovery(TOPIC, data) == []


def test_an_empty_payload_removes_and_is_valid():
    assert validate_device_discovery(TOPIC, b"") == []


def test_migrate_discovery_alone_is_valid():
    assert validate_device_discovery(TOPIC, '{"migrate_discovery": true}') == []


def test_removing_one_component_with_only_p_is_valid():
    data = payload(cmps__relay={"p": "switch"})
    assert validate_device_discovery(TOPIC, data) == []


# Each case: one rule broken, and a fragment the problem must mention.
BAD_DEVICE = {
    "topic_without_device": ("homeassistant/sensor/x/config", payload(), "<prefix>/device/"),
    "topic_id_with_dot": ("homeassistant/device/pysn.a4/config", payload(), "[a-zA-Z0-9_-]"),
    "not_json": (TOPIC, "{nope", "not JSON"),
    "json_array": (TOPIC, "[1]", "JSON object"),
    "top_level_tilde": (TOPIC, payload(**{"~": BASE}), "'~' not allowed"),
    "top_level_name": (TOPIC, payload(name="Greenhouse"), "'name' not allowed"),
    "top_level_msg_exp_int_compat": (TOPIC, payload(msg_exp_int=10), "before 2026.6"),
    "top_level_qos_not_inherited": (TOPIC, payload(qos=1), "only from HA 2026.5"),
    "no_device": (TOPIC, payload(dev=_DELETE), "device is required"),
    "device_without_ids": (TOPIC, payload(dev={"name": "G"}), "at least one identifier"),
    "device_without_name": (TOPIC, payload(dev={"ids": ["x"]}), "device.name missing"),
    "device_unknown_key": (TOPIC, payload(dev__colour="red"), "'colour' not allowed"),
    "no_origin": (TOPIC, payload(o=_DELETE), "origin is required"),
    "origin_without_name": (TOPIC, payload(o={"sw": "1"}), "origin.name is required"),
    "no_components": (TOPIC, payload(cmps=_DELETE), "components is required"),
    "short_and_full_key": (TOPIC, payload(availability_topic="x/y"), "given twice"),
    "avty_t_and_avty_list": (TOPIC, payload(avty=[{"t": "a/b"}]), "exclude each other"),
    "bad_availability_mode": (TOPIC, payload(avty_mode="most"), "availability_mode"),
    "component_id_with_space": (
        TOPIC, with_component("bad id", {"p": "switch"}), "component id may only"),
    "unsupported_platform": (TOPIC, payload(cmps__temp__p="foo"), "'foo' is not supported"),
    "no_unique_id": (TOPIC, payload(cmps__door__uniq_id=_DELETE), "unique_id is required"),
    "duplicate_unique_id": (
        TOPIC, payload(cmps__door__uniq_id="pysn_a4cf12a1b2c3_temp"), "already used"),
    "object_id": (TOPIC, payload(cmps__temp__obj_id="greenhouse_t"), "object_id is ignored"),
    "default_entity_id_without_domain": (
        TOPIC, payload(cmps__temp__def_ent_id="greenhouse_temperature"), "full entity id"),
    "default_entity_id_wrong_domain": (
        TOPIC, payload(cmps__temp__def_ent_id="switch.greenhouse_t"), "has not the domain"),
    "default_entity_id_upper_case": (
        TOPIC, payload(cmps__temp__def_ent_id="sensor.Greenhouse"), "full entity id"),
    "unit_wrong_case": (TOPIC, payload(cmps__temp__unit_of_meas="°c"), "not valid for"),
    "unit_C_for_temperature": (TOPIC, payload(cmps__temp__unit_of_meas="C"), "not valid for"),
    "template_attribute_not_a_name": (
        TOPIC, payload(cmps__temp__val_tpl="{{ value_json.1m }}"), "not valid Jinja"),
    "template_unbalanced": (TOPIC, payload(cmps__temp__val_tpl="{{ value_json.t }"), "unbalanced"),
    "no_unit_for_temperature": (TOPIC, payload(cmps__temp__unit_of_meas=_DELETE), "not valid"),
    "unknown_state_class": (TOPIC, payload(cmps__temp__stat_cla="avg"), "unknown state_class"),
    "state_class_impossible": (TOPIC, payload(cmps__temp__stat_cla="total"), "impossible"),
    "measurement_angle_without_degree": (
        TOPIC, payload(cmps__temp__dev_cla=_DELETE, cmps__temp__name="T",
                       cmps__temp__stat_cla="measurement_angle"), "state_class measurement_angle"),
    "unknown_sensor_class": (TOPIC, payload(cmps__temp__dev_cla="temp"), "unknown sensor"),
    "options_without_enum": (
        TOPIC, payload(cmps__temp__ops=["a"]), "options need device_class enum"),
    "timestamp_with_unit": (TOPIC, payload(cmps__temp__dev_cla="timestamp"), "not numeric"),
    "sensor_without_state_topic": (
        TOPIC, payload(cmps__temp__stat_t=_DELETE), "state_topic is required"),
    "sensor_entity_category_config": (
        TOPIC, payload(cmps__temp__ent_cat="config"), "cannot have entity_category config"),
    "bad_entity_category": (TOPIC, payload(cmps__door__ent_cat="system"), "entity_category"),
    "expire_after_zero": (TOPIC, payload(cmps__temp__exp_aft=0), "expire_after"),
    "precision_negative": (TOPIC, payload(cmps__temp__sug_dsp_prc=-1), "must be >= 0"),
    "binary_sensor_bad_class": (
        TOPIC, payload(cmps__door__dev_cla="temperature"), "unknown binary_sensor"),
    "binary_sensor_glass_break_compat": (
        TOPIC, payload(cmps__door__dev_cla="glass_break"), "needs HA 2026.10"),
    "binary_sensor_with_unit": (
        TOPIC, payload(cmps__door__unit_of_meas="%"), "binary_sensor has no"),
    "switch_without_command_topic": (
        TOPIC, payload(cmps__relay__cmd_t=_DELETE), "command_topic is required"),
    "switch_without_name": (TOPIC, payload(cmps__relay__name=_DELETE), "MQTT Switch"),
    "switch_bad_class": (TOPIC, payload(cmps__relay__dev_cla="relay"), "unknown switch"),
    "command_topic_with_wildcard": (TOPIC, payload(cmps__relay__cmd_t="a/+/set"), "wildcards"),
    "state_topic_bad_wildcard": (TOPIC, payload(cmps__relay__stat_t="a/b+"), "malformed"),
    "empty_topic": (TOPIC, payload(cmps__relay__stat_t=""), "non-empty"),
    "qos_3": (TOPIC, payload(cmps__relay__qos=3), "qos must be"),
    "retain_not_bool": (TOPIC, payload(cmps__relay__ret="yes"), "true or false"),
    "button_without_command_topic": (
        TOPIC, payload(cmps__restart__cmd_t=_DELETE), "command_topic is required"),
    "button_bad_class": (TOPIC, payload(cmps__restart__dev_cla="reboot"), "unknown button"),
    "update_without_payload_install": (
        TOPIC, payload(cmps__fw__pl_inst=_DELETE), "payload_install"),
    "unknown_short_key": (TOPIC, payload(cmps__temp__unit_meas="°C"), "unknown key"),
    "device_inside_component": (
        TOPIC, payload(cmps__temp__dev={"ids": ["x"]}), "top level only"),
    "number_max_below_min": (
        TOPIC, payload(cmps__n={"p": "number", "uniq_id": "n", "name": "N", "cmd_t": "a",
                                "min": 5, "max": 1}), "max must be >= min"),
    "number_without_command_topic": (
        TOPIC, payload(cmps__n={"p": "number", "uniq_id": "n", "name": "N"}),
        "command_topic is required"),
    "select_without_options": (
        TOPIC, payload(cmps__s={"p": "select", "uniq_id": "s", "name": "S", "cmd_t": "a"}),
        "options is required"),
    "text_max_over_255": (
        TOPIC, payload(cmps__t={"p": "text", "uniq_id": "t", "name": "T", "cmd_t": "a",
                                "max": 300}), "<= 255"),
    "light_without_command_topic": (
        TOPIC, payload(cmps__l={"p": "light", "uniq_id": "l", "name": "L"}),
        "command_topic is required"),
    "light_template_without_templates": (
        TOPIC, payload(cmps__l={"p": "light", "uniq_id": "l", "name": "L", "cmd_t": "a",
                                "schema": "template"}), "command_on_template is required"),
    "light_bad_color_mode": (
        TOPIC, payload(cmps__l={"p": "light", "uniq_id": "l", "name": "L", "cmd_t": "a",
                                "schema": "json", "sup_clrm": ["rainbow"]}), "unknown mode"),
    "climate_bad_mode": (
        TOPIC, payload(cmps__c={"p": "climate", "uniq_id": "c", "name": "C",
                                "modes": ["off", "boost"]}), "climate modes"),
    "climate_bad_precision": (
        TOPIC, payload(cmps__c={"p": "climate", "uniq_id": "c", "name": "C",
                                "precision": 0.25}), "precision must be"),
    "date_platform_compat": (
        TOPIC, payload(cmps__d={"p": "date", "uniq_id": "d", "name": "D", "cmd_t": "a"}),
        "needs a newer HA"),
}  # fmt: skip


@pytest.mark.parametrize(("topic", "data", "expected"), BAD_DEVICE.values(), ids=BAD_DEVICE)
def test_a_broken_rule_is_reported(topic, data, expected):
    text = data if isinstance(data, str) else json.dumps(data)
    problems = validate_device_discovery(topic, text)
    assert any(expected in p for p in problems), problems


def test_duplicate_component_ids_in_the_json_text_are_reported():
    # json.loads keeps the last of two equal keys: only the text shows the duplicate
    text = json.dumps(REFERENCE).replace('"door":', '"relay":', 1)
    problems = validate_device_discovery(TOPIC, text)
    assert any("duplicate JSON key 'relay'" in p for p in problems), problems


def test_compat_off_accepts_what_only_2026_11_accepts():
    data = payload(msg_exp_int=10, cmps__door__dev_cla="glass_break")
    assert validate_device_discovery(TOPIC, data, compat=False) == []
    assert len(validate_device_discovery(TOPIC, data)) == 2


def test_the_micro_sign_is_normalised_like_ha_does():
    data = payload(cmps__temp=EXTRA_COMPONENTS["pm"])
    assert validate_device_discovery(TOPIC, data) == []


# -- per-entity discovery (HA before 2024.11) ------------------------------------------------

ENTITY_TOPIC = "homeassistant/sensor/pysn_a4cf12a1b2c3/temp/config"
ENTITY = {
    "~": BASE,
    "uniq_id": "pysn_a4cf12a1b2c3_temp",
    "def_ent_id": "sensor.greenhouse_temperature",
    "dev_cla": "temperature",
    "unit_of_meas": "°C",
    "stat_cla": "measurement",
    "stat_t": "~/temp",
    "avty_t": "~/status",
    "dev": {"ids": ["pysn_a4cf12a1b2c3"], "name": "Greenhouse"},
    "o": {"name": "pysmartnode"},
}


def test_a_single_entity_payload_with_tilde_is_valid():
    assert validate_entity_discovery(ENTITY_TOPIC, json.dumps(ENTITY)) == []


BAD_ENTITY = {
    "device_topic": ("homeassistant/device/x/config", ENTITY, "<platform>"),
    "unknown_platform": ("homeassistant/sensr/x/config", ENTITY, "not supported"),
    "tilde_in_the_middle": (
        ENTITY_TOPIC, {**ENTITY, "stat_t": "a/~/temp"}, None),  # not expanded: still a topic
    "no_device": (ENTITY_TOPIC, {k: v for k, v in ENTITY.items() if k != "dev"}, "no device"),
    "origin_without_name": (ENTITY_TOPIC, {**ENTITY, "o": {"sw": "1"}}, "origin.name"),
    "no_unique_id": (
        ENTITY_TOPIC, {k: v for k, v in ENTITY.items() if k != "uniq_id"}, "unique_id"),
    "platform_key": (ENTITY_TOPIC, {**ENTITY, "p": "sensor"}, "platform belongs"),
    "wrong_unit": (ENTITY_TOPIC, {**ENTITY, "unit_of_meas": "K°"}, "not valid for"),
}  # fmt: skip


@pytest.mark.parametrize(("topic", "data", "expected"), BAD_ENTITY.values(), ids=BAD_ENTITY)
def test_a_broken_entity_rule_is_reported(topic, data, expected):
    problems = validate_entity_discovery(topic, json.dumps(data))
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_unique_ids_shared_between_two_messages_are_reported():
    other = {**ENTITY}
    topic2 = "homeassistant/sensor/pysn_a4cf12a1b2c3/temp2/config"
    problems = validate_unique_ids([(ENTITY_TOPIC, ENTITY), (topic2, other), (TOPIC, REFERENCE)])
    assert len(problems) == 2, problems
    assert validate_unique_ids([(ENTITY_TOPIC, ENTITY)]) == []
