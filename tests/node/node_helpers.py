"""Small helpers shared by the node tests."""

from __future__ import annotations

from typing import Any


def retained(obs: Any, topic: str, timeout: float = 10.0) -> bytes:
    """The retained payload on topic, as a new subscriber gets it."""
    obs.subscribe(topic)
    return obs.wait_message(topic, lambda m: m.retain, timeout=timeout).payload
