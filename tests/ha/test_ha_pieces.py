"""The device discovery payload as the node hands it to the client (a Discovery of its own, its
pieces made by ha_publish._made): short
pieces that join to exactly ha_payload.payloads()'s payload, the same at every send, with len()
matching what the pieces add up to. Short pieces are the point: on a small heap the first
connect has few free blocks of more than ~100 bytes (bench/RESULTS.md, node heap)."""

from __future__ import annotations

import json

from harness.ha_builder import Builder

from pysmartnode import node
from pysmartnode.utils.component import ha_publish
from pysmartnode.utils.component.discovery import Discovery

# a piece of the head (its longest, the device block: ~110 bytes) or of one key and value; an
# entity's whole config is ~330 bytes
LONGEST_PIECE = 120


class Provider:
    discover = True

    def __init__(self, name, count):
        self.name = name
        self.count = count

    def discovery_entities(self):
        for i in range(self.count):
            fields = {"dev_cla": "data_size", "unit_of_meas": "B", "stat_cla": "measurement",
                      "name": "Free RAM %d" % i, "stat_t": "./status", "ent_cat": "diagnostic",
                      "val_tpl": "{{ value_json.ram_free_%d }}" % i, "exp_aft": 635}  # fmt: skip
            yield "%s_%d" % (self.name, i), "sensor", fields


class Again:  # the node's Discovery as a payload asks it: another publication (_again())
    def __init__(self):
        self.again = 0

    def _again(self):
        self.again += 1


class Odd:  # fields the builder changes: a unit the class does not take, an obj_id, a
    # measurement of energy (total_increasing), an empty unit, a device topic
    discover = True
    name = "odd"

    def discovery_entities(self):
        return [
            ("odd_a", "sensor", {"dev_cla": "temperature", "unit_of_meas": "m", "obj_id": "x",
                                 "stat_t": "./odd"}),
            ("odd_b", "sensor", {"dev_cla": "energy", "unit_of_meas": "kWh",
                                 "stat_cla": "measurement", "uniq_id": "mine"}),
            ("odd_c", "sensor", {"unit_of_meas": "", "name": "C"}),
            ("odd_d", "switch", {"cmd_t": "./odd/set", "obj_id": "y"}),
        ]  # fmt: skip


def builder():
    return Builder("node1", "home", "homeassistant", "home/node1/available", "Node 1",
                   "cpython", "7.0.0")  # fmt: skip


def test_the_pieces_are_short_and_join_to_the_payload():
    providers = [Provider("status", 3), Odd(), Provider("pump", 2)]
    b = builder()
    ((_, payload),) = b.payloads(providers, {"gone": "switch"})
    assert payload["cmps"]["odd_b"]["stat_cla"] == "total_increasing"
    assert "dev_cla" not in payload["cmps"]["odd_a"] and len(b.problems) == 1
    pieces = b.pieces(providers, {"gone": "switch"})
    assert json.loads(b"".join(pieces)) == payload
    assert len(b.problems) == 1  # noted once per pass
    assert max(len(p) for p in pieces) <= LONGEST_PIECE, [len(p) for p in pieces]
    assert all(isinstance(p, bytes) for p in pieces)


def _sends(monkeypatch, providers, change=None):
    # A payload as ha_publish.publication() makes it, sent twice (a send, a QoS 1 re-send)
    # after change()
    again = Again()
    monkeypatch.setattr(node, "discovery", again)
    monkeypatch.setattr(ha_publish, "_providers", lambda: providers)
    payload = Discovery()
    payload.settings, payload._removed, payload._made = builder().settings, {}, ha_publish._made
    payload._size = sum(map(len, ha_publish._made(payload, [])))
    if change is not None:
        change()
    assert not hasattr(payload, "decode")  # how the client tells it from bytes
    return again, len(payload), [b"".join(payload), b"".join(payload)]


def test_the_client_telling_the_payload_from_bytes_loads_no_module(monkeypatch):
    # The client asks hasattr(payload, "decode") while it writes (the first connect's heap
    # peak): Discovery.__getattr__ answers it without loading ha_entity.py
    from pysmartnode.utils.component import discovery

    loads = []
    monkeypatch.setattr(discovery, "_load", loads.append)
    assert not hasattr(Discovery(), "decode")
    assert loads == []


def test_the_payload_is_sized_once_and_made_the_same_at_every_send(monkeypatch):
    # with what the sizing recorded as problems, which a send does not record again: a unit
    # the device class does not take, an id twice, an id that is not one
    providers = [Provider("status", 4), Odd(), Fixed("one", "t_eaaa"), Fixed("two", "t_aabeb",
                 "t_eaaa", "not an id")]  # fmt: skip
    discovery, size, (first, second) = _sends(monkeypatch, providers)
    assert first == second and len(first) == size
    assert json.loads(first) == builder().payloads(providers, {})[0][1]
    assert discovery.again == 0


def test_an_entity_changed_after_sizing_asks_for_another_publication(monkeypatch):
    providers = [Provider("status", 2)]
    late = lambda: providers.append(Provider("late", 1))  # noqa: E731
    discovery, size, (first, _) = _sends(monkeypatch, providers, late)
    assert len(first) > size  # the client cuts it to len()
    assert discovery.again == 2  # at each send (the Discovery starts one publication)


def test_nothing_to_announce_is_no_piece(monkeypatch):
    assert builder().pieces([]) == []
    assert _sends(monkeypatch, [])[1] == 0


class Fixed:  # entities with the ids given, all switches
    discover = True

    def __init__(self, name, *ids):
        self.name = name
        self.ids = ids

    def discovery_entities(self):
        return [(object_id, "switch", {"cmd_t": "./%s/set" % object_id}) for object_id in self.ids]


def test_two_ids_with_one_hash_are_both_announced_and_a_repeated_id_names_its_first_owner():
    # The builder keeps a hash per id, not the ids: "t_eaaa" and "t_aabeb" share one, and
    # only a look at the ids again tells them apart
    providers = [Fixed("one", "t_eaaa", "other"), Fixed("two", "t_aabeb", "t_eaaa")]
    b = builder()
    ((_, payload),) = b.payloads(providers)
    assert set(payload["cmps"]) == {"t_eaaa", "other", "t_aabeb"}
    assert b.problems == [("t_eaaa", "id already used by one: dropped")]
    assert json.loads(b.device_text(providers)) == payload


def test_an_object_id_with_a_character_outside_a_z_digits_dash_underscore_is_dropped():
    providers = [Fixed("one", "ok-id_9", "not an id", "dotted.id", "caf\u00e9")]
    b = builder()
    ((_, payload),) = b.payloads(providers)
    assert set(payload["cmps"]) == {"ok-id_9"}
    why = "object id may only use [a-zA-Z0-9_-]"
    assert b.problems == [("not an id", why), ("dotted.id", why), ("caf\u00e9", why)]
    assert json.loads(b.device_text(providers)) == payload


def test_the_node_id_has_each_character_outside_the_id_characters_made_underscore():
    from pysmartnode.utils.component import ha_entity

    assert ha_entity.settings("pysn.a4 caf\u00e9", "home", "ha", "x")[0] == "pysn_a4_caf_"
    device_id = "Node-7_b"
    assert ha_entity.settings(device_id, "home", "ha", "x")[0] is device_id  # no copy kept
