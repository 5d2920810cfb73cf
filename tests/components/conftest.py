"""Shared by the component tests: the catalog of classes, a clean in-process node state."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from harness import REPO

for _root in (str(REPO), str(REPO / "external_modules")):
    if _root not in sys.path:  # the in-process tests import the device code
        sys.path.insert(0, _root)


@pytest.fixture
def clean_node() -> Iterator[object]:
    """pysmartnode.node with no components (in-process tests), restored afterwards."""
    from pysmartnode import node

    saved = (node.mqtt, node.status, node.discovery, dict(node.components), dict(node.failed))
    node.mqtt = node.status = node.discovery = None
    node.components.clear()
    node.failed.clear()
    yield node
    node.mqtt, node.status, node.discovery = saved[:3]
    node.components.clear()
    node.components.update(saved[3])
    node.failed.clear()
    node.failed.update(saved[4])
