"""The tests' handle on the discovery payloads (functions of a settings tuple in ha_payload.py,
ha_entity.py and ha_publish.py): the settings made once, the problems of the last pass kept."""

from __future__ import annotations

from pysmartnode.utils.component import ha_entity, ha_payload, ha_publish


class Builder:
    def __init__(self, *args):
        self.settings = ha_entity.settings(*args)
        self.problems: list[tuple[str, str]] = []

    def payloads(self, providers, removed=None):
        """ha_entity.payloads(): every (topic, payload), dicts (or "" to remove)."""
        self.problems = []
        return ha_entity.payloads(self.settings, list(providers), removed, self.problems)

    def entities(self, providers):
        """Every entity announced, as (object_id, platform, config)."""
        self.problems = []
        s, problems = self.settings, self.problems
        return [
            (object_id, platform, ha_entity.config(s, object_id, platform, fields, problems))
            for object_id, platform, fields in ha_payload.entities(
                s, list(providers), problems, None
            )
        ]

    def pieces(self, providers, removed=None):
        """The device payload's pieces as the node writes them (ha_publish._pieces)."""
        self.problems = []
        found = ha_payload.entities(self.settings, list(providers), self.problems, removed)
        return list(ha_publish._pieces(self.settings, found, self.problems, None))

    def device_text(self, providers, removed=None):
        """The device payload as the node publishes it, joined; None: nothing to announce."""
        return b"".join(self.pieces(providers, removed)) or None
