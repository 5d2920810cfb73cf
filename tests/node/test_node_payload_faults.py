"""A node under payloads it cannot afford: one too big for its free heap, a discovery publication
that raises. The node names what it dropped and goes on (status, states, later messages)."""

from __future__ import annotations

import pytest


# CPython only: its bytes.decode() copies the payload (n more bytes), so a cap on the address
# space leaves a wide band of sizes the client receives but the handle cannot make text of.
# MicroPython's decode shares the bytes: there the handler meets MemoryError only when the
# payload left the heap a few hundred bytes, a band too narrow to hit on purpose
@pytest.mark.parametrize("runtime", ["cpython"])
def test_a_payload_too_big_for_the_free_heap_is_a_warning_naming_its_topic(
    runtime, mosquitto, start_node, observer
):
    obs = observer(mosquitto)
    for topic in ("home/log/#", "home/+/status", "home/+/big_got"):  # not the big payloads
        obs.subscribe(topic)
    node = start_node(runtime, mosquitto, components="big_payload")  # 48 MB left to allocate
    obs.wait_message(node.topic("status"), timeout=20)
    # Receiving n bytes takes the packet and the payload (2n), its text n more: sizes growing
    # by a quarter pass "received, no room for the text" before "cannot be received"
    big, seen, size = node.topic("big"), [], 1 << 20
    while size < 64 << 20:
        mark = obs.mark()
        obs.publish(big, b"x" * size, qos=1)
        msg = obs.wait_message("home/#", lambda m: "status" not in m.topic, after=mark, timeout=10)
        seen.append((size, msg.topic, msg.text[:100]))
        if msg.topic != node.topic("big_got"):
            break
        size = size * 5 // 4
    assert f"ignored a payload on {big}: {size} bytes, no heap for it" in msg.text, seen
    assert msg.topic == node.log_topic("warn"), seen
    mark = obs.mark()
    obs.publish(big, b"small", qos=1)  # the node runs on
    obs.wait_message(node.topic("big_got"), b"5", after=mark, timeout=10)


def test_a_discovery_publication_that_raises_is_logged_and_status_and_states_still_go_out(
    runtime, mosquitto, start_node, observer
):
    # Discovery goes out before any state (Home Assistant needs the config first): the status
    # loop and every component wait for it. A publication that raised used to leave them
    # waiting for ever; a silent node that is online
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_node(runtime, mosquitto, components="discovery_raises")
    assert obs.wait_message(node.topic("status"), timeout=20).json()["components"] == 2
    obs.wait_message(node.topic("lamp"), b"ON", timeout=10)
    why = obs.wait_message(node.log_topic("error"), lambda m: b"discovery" in m.payload)
    assert why.text.startswith("[discovery] discovery not published: MemoryError: no block")
    mark = obs.mark()
    obs.publish(node.topic("lamp/set"), "OFF", qos=1)  # and it obeys
    obs.wait_message(node.topic("lamp"), b"OFF", after=mark, timeout=10)


def test_a_discovery_publication_without_heap_is_tried_again_and_never_leaves_an_entity_out(
    runtime, mosquitto, start_node, observer
):
    # A component whose entities found no heap when discovery asked: the device config must
    # not go out without them (Home Assistant would remove them), but whole, a moment later
    obs = observer(mosquitto)
    obs.subscribe("homeassistant/device/#")
    obs.subscribe("home/log/#")
    node = start_node(runtime, mosquitto, components="discovery_room_later")

    def both(m) -> bool:
        ids = {c.get("uniq_id", "").rpartition("_")[2] for c in m.json()["cmps"].values()}
        return {"lamp", "bell"} <= ids

    whole = obs.wait_message("homeassistant/device/+/config", lambda m: m.payload and both(m),
                             timeout=20)  # fmt: skip
    configs = [m for m in obs.messages if m.topic == whole.topic]
    assert all(m.payload and both(m) for m in configs), [m.payload[-200:] for m in configs]
    obs.wait_message(node.log_topic("info"), lambda m: b"discovery published at try" in m.payload)
