"""The tests' handle on the discovery payloads (ha_payload.py's functions of a settings tuple):
the settings made once, the problems of the last pass kept, as the node's publication sees them."""

from __future__ import annotations

from pysmartnode.utils.component import ha_payload, ha_publish


class Builder:
    def __init__(self, *args):
        self.settings = ha_payload.settings(*args)
        self.problems: list[tuple[str, str]] = []

    def payloads(self, providers, removed=None):
        """ha_payload.payloads(): every (topic, payload), dicts (or "" to remove)."""
        self.problems = []
        return ha_payload.payloads(self.settings, list(providers), removed, self.problems)

    def entities(self, providers):
        """ha_payload.entities() as a list: (object_id, platform, config)."""
        self.problems = []
        return list(ha_payload.entities(self.settings, list(providers), self.problems))

    def pieces(self, providers, removed=None):
        """The device payload's pieces as the node writes them (ha_publish._pieces)."""
        self.problems = []
        made = ha_publish._pieces(self.settings, list(providers), removed, self.problems, None)
        return list(made)

    def device_text(self, providers, removed=None):
        """The device payload as the node publishes it, joined; None: nothing to announce."""
        return b"".join(self.pieces(providers, removed)) or None
