"""Runs INSIDE the Home Assistant virtualenv (Python >= 3.13, see ha_check.py), never in pytest.

Reads a JSON list of {"topic": str, "payload": str} from stdin and writes a JSON list with one
list of problems per message: what Home Assistant's own MQTT discovery code says about it,
offline (no `hass`, no broker, no event loop). It follows HA's discovery pipeline: parse,
expand abbreviations, validate the device payload, then per component merge the shared options,
device and origin, replace `~` and validate with the platform's DISCOVERY_SCHEMA. Warnings HA
logs on the way (e.g. a unit that HA >= 2025.7 rejects) are problems too, prefixed "warning:".
"""

import importlib
import json
import logging
import sys

import voluptuous as vol
from homeassistant.components.mqtt import discovery as ha_discovery
from homeassistant.components.mqtt import schemas as ha_schemas
from homeassistant.helpers import frame

# A value template validated without a running HA only triggers a "Template without hass"
# deprecation report, which needs HA's frame helper: it says nothing about the payload.
frame.report_usage = lambda *args, **kwargs: None

_PREFIX = "homeassistant/"


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


def _schema(platform):
    return importlib.import_module("homeassistant.components.mqtt." + platform).DISCOVERY_SCHEMA


def _validate_entity(platform, config, where, problems):
    if "~" in config:
        ha_discovery._replace_topic_base(config)
    try:
        _schema(platform)(config)
    except vol.Invalid as e:
        problems.append("%s: %s" % (where, e))
    except ImportError as e:
        problems.append("%s: platform %r: %s" % (where, platform, e))


def _check(topic, payload, problems):
    if not topic.startswith(_PREFIX):
        problems.append("topic does not start with %r" % _PREFIX)
        return
    match = ha_discovery.TOPIC_MATCHER.match(topic[len(_PREFIX) :])
    if not match:
        problems.append("illegal discovery topic %r" % topic)
        return
    component, node_id, object_id = match.groups()
    if payload == "":
        return
    try:
        data = json.loads(payload)
    except ValueError as e:
        problems.append("unable to parse JSON: %s" % e)
        return
    if not isinstance(data, dict):
        problems.append("payload is not a JSON object")
        return
    data = ha_discovery.MQTTDiscoveryPayload(data)
    if ha_discovery._async_process_discovery_migration(data):
        return
    if component != "device":
        ha_discovery._replace_all_abbreviations(data)
        if not ha_discovery._valid_origin_info(data):
            problems.append("invalid origin %r" % (data.get("origin"),))
            return
        _validate_entity(component, dict(data), component, problems)
        return
    ha_discovery._replace_all_abbreviations(data)
    try:
        ha_schemas.DEVICE_DISCOVERY_SCHEMA(data)
    except vol.Invalid as e:
        problems.append("invalid device discovery payload: %s" % e)
        return
    for component_id, config in data["components"].items():
        config = dict(config)
        platform = config.pop("platform")
        if not config:
            continue  # {"p": ...} alone removes the component
        config = ha_discovery.MQTTDiscoveryPayload(config)
        config["device"] = data["device"]
        config["origin"] = data.get("origin")
        ha_discovery._merge_common_device_options(config, data)
        _validate_entity(platform, config, "component %r" % component_id, problems)


def main():
    collect = _Collect()
    logging.getLogger().addHandler(collect)
    logging.getLogger().setLevel(logging.WARNING)
    results = []
    for message in json.load(sys.stdin):
        problems = []
        collect.records = []
        try:
            _check(message["topic"], message["payload"], problems)
        except Exception as e:  # a crash in HA's code on our payload is a finding, not a stop
            problems.append("HA code raised %s: %s" % (type(e).__name__, e))
        problems.extend("warning: " + text for text in collect.records)
        results.append(problems)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
