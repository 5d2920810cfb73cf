"""Every component class in the tree, found by walking it, with the example config of its
module docstring: what the contract tests run for each class.

A component module's docstring carries an hjson example after a line ending in
``Example config (hjson):`` (STYLE §3); each class must appear there as ``component``.
Modules: ``pysmartnode/components/**.py`` and ``_templates/*.py`` (not ``components.py``).
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hjson
from harness import REPO

TEMPLATES = REPO / "_templates"
LIBRARY = REPO / "pysmartnode" / "components"
PARTS = Path(__file__).parent / "parts"  # test-only components: the suite checks itself on them
_MARKER = "Example config (hjson):"
# machine/: the built-in status and system topics, not COMPONENTS classes
_NOT_COMPONENTS = ("machine/status.py", "machine/system.py")


@dataclass
class ComponentClass:
    module: str  # the package a COMPONENTS entry names (".unix.system", "sensor_template")
    name: str  # the class name
    path: Path  # the module's file
    kind: str  # sensor, switch, button, binary_sensor, base
    example: dict[str, Any] | None  # {config key: entry} for this class, None if missing
    error: str | None = None  # why the module or its example could not be read
    needs: dict[str, Any] | None = None  # entries of the docstring the example refers to
    # "Host device: <path>[, CPython only | , CPython or a unix port with ffi ...]": (path,
    # True when the PyPI wheel's micropython, which has no ffi, cannot drive it)
    host_device: tuple[str, bool] | None = None

    def unavailable(self, runtime: str) -> str | None:
        """Why this class's hardware cannot work in a node of runtime here, or None."""
        if self.host_device is None:
            return None
        path, not_on_wheel = self.host_device
        if not os.path.exists(path):
            return f"{self.id} needs {path}, which this host does not have"
        if not_on_wheel and runtime != "cpython":
            return f"{self.id} needs CPython or a unix port with ffi (the wheel has none)"
        return None

    def entries(self, key: str = "{}") -> dict[str, Any]:
        """needs + example, every key formatted with ``key`` and references rewritten."""
        return renamed({**(self.needs or {}), **(self.example or {})}, key)

    @property
    def id(self) -> str:
        return f"{self.path.stem}.{self.name}"

    @property
    def in_tree(self) -> bool:
        """False for the test-only parts."""
        return self.path.parent != PARTS


def _module_paths() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(LIBRARY.rglob("*.py")):
        if path.name == "__init__.py" or path.relative_to(LIBRARY).as_posix() in _NOT_COMPONENTS:
            continue
        rel = path.relative_to(LIBRARY).with_suffix("")
        found.append(("." + ".".join(rel.parts), path))
    for folder in (TEMPLATES, PARTS):
        for path in sorted(folder.glob("*.py")):
            if path.name != "components.py":
                found.append((path.stem, path))
    return found


def _import(package: str, path: Path) -> Any:
    if package.startswith("."):
        return importlib.import_module("pysmartnode.components" + package)
    if str(path.parent) not in sys.path:  # as in a node: the module beside components.py
        sys.path.append(str(path.parent))
    return importlib.import_module(package)


def example_of(doc: str | None) -> dict[str, Any] | None:
    """The hjson example of a module docstring, as {config key: entry}, or None."""
    if not doc or _MARKER not in doc:
        return None
    text = doc.split(_MARKER, 1)[1]
    lines = []
    for line in text.splitlines()[1:]:
        if line.strip() and not line.startswith((" ", "\t")):
            break  # the indented block ended
        lines.append(line)
    return dict(hjson.loads("{" + textwrap.dedent("\n".join(lines)) + "}"))


def _kind(cls: type) -> str:
    from pysmartnode.utils.component import (
        ComponentBinarySensor,
        ComponentButton,
        ComponentSensor,
        ComponentSwitch,
    )

    for base, kind in (
        (ComponentSensor, "sensor"),
        (ComponentSwitch, "switch"),
        (ComponentButton, "button"),
        (ComponentBinarySensor, "binary_sensor"),
    ):
        if issubclass(cls, base):
            return kind
    return "base"


def component_classes() -> list[ComponentClass]:
    """Every ComponentBase subclass defined in the tree's component modules and templates."""
    from pysmartnode.utils.component.base import ComponentBase

    result = []
    for package, path in _module_paths():
        try:
            module = _import(package, path)
            example = example_of(module.__doc__)
        except Exception as e:  # reported by the contract test for that module
            result.append(
                ComponentClass(package, "?", path, "base", None, f"{type(e).__name__}: {e}")
            )
            continue
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, ComponentBase) or cls.__module__ != module.__name__:
                continue
            mine = needs = None
            if example is not None:
                mine = {k: v for k, v in example.items() if v.get("component") == name} or None
                needs = _referenced(mine or {}, example)
            result.append(ComponentClass(package, name, path, _kind(cls), mine, None, needs,
                                         _host_device(module.__doc__)))  # fmt: skip
    return result


def _host_device(doc: str | None) -> tuple[str, bool] | None:
    """From a docstring line "Host device: /dev/x" (", CPython only" or ", CPython or a unix port
    with ffi" may follow)."""
    for line in (doc or "").splitlines():
        if line.startswith("Host device: "):
            path, _, rest = line[len("Host device: ") :].partition(",")
            return path.strip(), "CPython only" in rest or "with ffi" in rest
    return None


def _refs(entry: dict) -> list[str]:
    args = entry.get("constructor_args") or {}
    items = [x for v in args.values() for x in (v if isinstance(v, list) else [v])]
    return [v["ref"] for v in items if _is_ref(v)]


def _is_ref(v: Any) -> bool:
    return isinstance(v, dict) and set(v) == {"ref"}


def _referenced(mine: dict[str, Any], example: dict[str, Any]) -> dict[str, Any] | None:
    """The other entries of the docstring that mine refer to ({"ref": key}), transitively."""
    needs: dict[str, Any] = {}
    todo = [r for entry in mine.values() for r in _refs(entry)]
    while todo:
        key = todo.pop()
        if key not in needs and key not in mine and key in example:
            needs[key] = example[key]
            todo += _refs(example[key])
    return needs or None


def renamed(entries: dict[str, Any], key: str) -> dict[str, Any]:
    """entries with every config key k as key.format(k), references rewritten to match."""
    out = {}
    for k, entry in entries.items():
        args = dict(entry.get("constructor_args") or {})
        for arg, v in args.items():
            if isinstance(v, list):
                args[arg] = [_rename_ref(x, entries, key) for x in v]
            else:
                args[arg] = _rename_ref(v, entries, key)
        out[key.format(k)[:64]] = dict(entry, constructor_args=args)
    return out


def _rename_ref(v: Any, entries: dict[str, Any], key: str) -> Any:
    if _is_ref(v) and v["ref"] in entries:
        return {"ref": key.format(v["ref"])[:64]}
    return v
