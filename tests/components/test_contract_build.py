"""Contract, in-process part: for every component class in the tree (found by walking it), its
docstring's example config builds through the registry, and every discovery payload the tree
can produce is valid by our rule encoding (tests/harness/ha_rules.py) and by Home Assistant's
own schemas. The end-to-end part is test_contract_node.py."""

from __future__ import annotations

import asyncio
import json

import pytest
from catalog import ComponentClass, component_classes
from harness.ha_builder import Builder
from harness.ha_rules import (
    validate_device_discovery,
    validate_entity_discovery,
    validate_unique_ids,
)

CLASSES = component_classes()
IDS = [c.id for c in CLASSES]


def build(components: dict) -> dict:
    from pysmartnode.utils import registry

    return asyncio.run(registry.build(components, start=False))


def builder(per_entity: bool = False):
    return Builder("node1", "home", "homeassistant", "home/node1/available", "Node 1",
                   "cpython", "7.0.0", per_entity)  # fmt: skip


def wire(payloads: list[tuple[str, object]]) -> list[tuple[str, str]]:
    """As published: JSON text (MQTTHandle.publish dumps dicts with json.dumps)."""
    return [(t, p if isinstance(p, str) else json.dumps(p)) for t, p in payloads]


def test_the_tree_has_component_classes_of_every_kind():
    kinds = {c.kind for c in CLASSES if c.in_tree}
    assert {"sensor", "switch", "button", "binary_sensor"} <= kinds, kinds


@pytest.mark.parametrize("cc", CLASSES, ids=IDS)
def test_example_config_builds_through_the_registry(cc: ComponentClass, clean_node):
    assert cc.error is None, f"{cc.path.name} does not import: {cc.error}"
    assert cc.example, f"{cc.path.name}: no example config for {cc.name} in the docstring"
    built = build(cc.entries())  # with the entries it refers to
    assert not clean_node.failed, clean_node.failed
    for key in cc.example:
        assert type(built[key]).__name__ == cc.name
        assert built[key].name == key


@pytest.mark.parametrize("cc", CLASSES, ids=IDS)
def test_example_discovery_payloads_are_valid(cc: ComponentClass, clean_node):
    if not cc.example:
        pytest.fail(f"{cc.id} has no example config")
    built = build(cc.entries())
    for per_entity, validate in (
        (False, validate_device_discovery),
        (True, validate_entity_discovery),
    ):
        b = builder(per_entity)
        payloads = wire(b.payloads(built.values()))
        assert not b.problems, b.problems
        entities = b.entities(built.values())
        if cc.kind != "base":
            assert entities, f"{cc.id} announces no entity"
        for topic, payload in payloads:
            assert validate(topic, payload) == [], (topic, payload)


def test_every_payload_the_tree_can_produce_is_valid_together(clean_node, ha_validate):
    """All examples (keys made unique) and the status entities in one node, both modes."""
    from pysmartnode.components.machine.status import Status
    from pysmartnode.networking.mqtt import MQTTHandle

    components = {}
    for i, cc in enumerate(CLASSES):
        components |= cc.entries(f"{{}}_{i}")
    built = build(components)
    assert not clean_node.failed, clean_node.failed

    async def status_provider():
        handle = MQTTHandle("node1", "home", "available", "homeassistant", server="127.0.0.1")
        status = Status(handle, 60, None)
        status.stop()
        return status

    providers = [asyncio.run(status_provider()), *built.values()]
    messages = []
    for per_entity, validate in (
        (False, validate_device_discovery),
        (True, validate_entity_discovery),
    ):
        b = builder(per_entity)
        payloads = wire(b.payloads(providers))
        assert not b.problems, b.problems
        for topic, payload in payloads:
            assert validate(topic, payload) == [], (topic, payload)
        assert validate_unique_ids(payloads) == []
        messages += payloads
    assert ha_validate(messages) == []


def test_a_unit_the_device_class_does_not_take_is_dropped_with_the_class_and_reported(clean_node):
    from pysmartnode.utils.component import ComponentSensor

    class Wrong(ComponentSensor):
        def __init__(self, name, **kwargs):
            super().__init__(name, **kwargs)
            self._add_sensor_type("temperature", unit="C")

    b = builder()
    ((topic, payload),) = b.payloads([Wrong("t1")])
    assert "dev_cla" not in payload["cmps"]["t1"]
    assert b.problems and "'C'" in b.problems[0][1]
    assert validate_device_discovery(topic, json.dumps(payload)) == []


def test_two_entities_with_one_id_are_reported_and_only_the_first_is_announced(clean_node):
    from pysmartnode.utils.component import ComponentSensor

    class Two(ComponentSensor):
        def __init__(self, name, types, **kwargs):
            super().__init__(name, **kwargs)
            for t in types:
                self._add_sensor_type(t, state_class="")

    # "a" with type "b_c" and "a_b" with type "c" both become object id a_b_c
    first, second = Two("a", ["b_c", "x"]), Two("a_b", ["c", "y"])
    b = builder()
    ((topic, payload),) = b.payloads([first, second])
    # the entity that keeps the id names its component
    assert ("a_b_c", "id already used by a: dropped") in b.problems, b.problems
    assert set(payload["cmps"]) == {"a_b_c", "a_x", "a_b_y"}
    assert validate_device_discovery(topic, json.dumps(payload)) == []


def test_a_removed_entity_is_sent_as_its_platform_alone_then_omitted(clean_node):
    b = builder()
    ((_, payload),) = b.payloads([], {"pump": "switch"})
    assert payload["cmps"] == {"pump": {"p": "switch"}}
    b = builder(per_entity=True)
    assert b.payloads([], {"pump": "switch"}) == [("homeassistant/switch/node1/pump/config", "")]


def test_the_device_text_a_node_publishes_is_the_payload_the_tests_check(clean_node):
    """Discovery publishes device_text()'s pieces (made one component at a time, RAM); the tests
    above check payloads(): both must say the same."""
    components = {}
    for i, cc in enumerate(CLASSES):
        components |= cc.entries(f"{{}}_{i}")
    built = list(build(components).values())
    b = builder()
    ((topic, payload),) = b.payloads(built, {"gone": "switch"})
    text = b.device_text(built, {"gone": "switch"})
    assert json.loads(text) == payload
    assert validate_device_discovery(topic, text) == []
    assert b.device_text([]) is None
