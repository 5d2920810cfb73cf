"""The node <-> SmartServer protocol over MQTT (the contract is in docs/smartserver.md).

node -> server
    <home>/login/<id>/set   {"version": "7.0.0", "platform": "esp32", "counter": 41,
                              "hash": "<running config hash>"|null}  (asks for its config)
    <home>/<id>/available   online | offline (retained; offline is also the will)
    <home>/<id>/status      the status JSON (docs/node.md)
    <home>/<id>/config      {"counter": 42, "hash": "...", "source": "server", "ok": true,
                              "error": null, "outcome": "applied"}  (what it runs now and how
                              the last config went; outcome only after a push)
    <home>/log/<level>/<id> "[logger] message"
server -> node
    <home>/login/<id>       a signed message (pysmartnode.utils.signing), body:
                            {"v": 1, "kind": "config", "id": ..., "counter": n, "order": [...],
                             "components": {...}, "hash": ...}  or  {"kind": "restart", ...}
"""

from __future__ import annotations

import json
from typing import Any

from pysmartnode.utils.signing import seal

PROTOCOL_VERSION = 1
LEVELS = ("critical", "error", "warn", "info", "debug")
SERVER_ID = "smartserver"  # <home>/smartserver/available is the server's own availability
MAX_PAYLOAD = 64 * 1024
MAX_LOG_TEXT = 4000


class Garbage(ValueError):
    """A message that does not follow the protocol (logged and dropped)."""


def subscriptions(home: str) -> list[str]:
    return [
        f"{home}/login/+/set",
        f"{home}/log/#",
        f"{home}/+/available",
        f"{home}/+/status",
        f"{home}/+/config",
    ]


def classify(home: str, topic: str) -> tuple[str, str, str | None]:
    """(kind, device id, level) of a topic this server subscribes to."""
    parts = topic.split("/")
    prefix = home.split("/")
    if parts[: len(prefix)] != prefix:
        raise Garbage(f"topic outside {home}/")
    rest = parts[len(prefix) :]
    if len(rest) == 3 and rest[0] == "login" and rest[2] == "set":
        return "login", rest[1], None
    if len(rest) == 3 and rest[0] == "log":
        if rest[1] not in LEVELS:
            raise Garbage(f"unknown log level {rest[1]!r}")
        return "log", rest[2], rest[1]
    if len(rest) == 2 and rest[0] not in ("login", "log"):
        if rest[1] in ("available", "status", "config"):
            return rest[1], rest[0], None
    raise Garbage("not a SmartServer topic")


def parse_json_object(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD:
        raise Garbage(f"payload of {len(payload)} bytes is too long")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Garbage(f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise Garbage("not a JSON object")
    return data


def text(payload: bytes, limit: int = MAX_LOG_TEXT) -> str:
    return payload[:limit].decode("utf-8", "replace")


def split_log(message: str) -> tuple[str | None, str]:
    """("logger", "message") from the node's "[logger] message"."""
    if message.startswith("[") and "] " in message:
        name, _, rest = message[1:].partition("] ")
        return name, rest
    return None, message


def config_body(device_id: str, counter: int, components, order, hash_) -> dict[str, Any]:
    return {
        "v": PROTOCOL_VERSION,
        "kind": "config",
        "id": device_id,
        "counter": counter,
        "order": order,
        "components": components,
        "hash": hash_,
    }


def command_body(device_id: str, counter: int, kind: str) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "kind": kind, "id": device_id, "counter": counter}


def signed(secret: str, body: dict[str, Any]) -> bytes:
    return seal(secret, body)


PUSH_OUTCOMES = ("applied", "rolled back", "refused", "superseded")


def push_outcome(report: dict[str, Any]) -> str:
    """What became of the config a ./config report names: one of PUSH_OUTCOMES, or "failed"
    (a node that does not say)."""
    outcome = report.get("outcome")
    if outcome in PUSH_OUTCOMES and (outcome == "applied") == (report.get("ok") is True):
        return outcome
    return "applied" if report.get("ok") is True else "failed"


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def str_or_none(value: Any, limit: int = 200) -> str | None:
    return value[:limit] if isinstance(value, str) else None
