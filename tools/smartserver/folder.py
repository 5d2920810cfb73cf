"""The config folder: one hjson file per device, checked offline.

Layout::

    configs/
      devices.hjson   optional: {kitchen: "a4cf12f00d"} maps readable file names to device ids
      kitchen.hjson   the COMPONENTS of device a4cf12f00d (DESIGN §4.2), comments allowed
      node7.hjson     a file named by the device id itself

Every problem of every file is collected (`Problem`: file, line, message); nothing stops at the
first one.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hjson

from pysmartnode.utils.canonical import dumps as canonical_dumps

DEFAULT_ALLOW = ("pysmartnode.components.",)
NAMES_FILE = "devices"
SUFFIXES = (".hjson", ".json")
ENTRY_KEYS = ("package", "component", "constructor_args")
REFERENCE = "ref"  # {"ref": "<config key>"} passes another component (the registry's form)
_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass
class Problem:
    path: str
    line: int | None
    message: str
    severity: str = "error"  # or "warning": reported, the config may still be sent

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


@dataclass
class DeviceConfig:
    device_id: str
    name: str
    path: Path
    components: dict[str, Any] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    @property
    def hash(self) -> str:
        return config_hash(self.components, self.order)


@dataclass
class Folder:
    path: Path
    devices: dict[str, DeviceConfig] = field(default_factory=dict)  # by device id
    problems: list[Problem] = field(default_factory=list)  # every file's, in file order

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def config_hash(components: dict[str, Any], order: list[str]) -> str:
    """The hash a node reports for the config it runs: sha256 of its canonical JSON."""
    text = canonical_dumps({"components": components, "order": order})
    return hashlib.sha256(text.encode()).hexdigest()


def expand_package(package: str) -> str:
    return "pysmartnode.components" + package if package.startswith(".") else package


def snapshot(path: Path) -> tuple:
    """What changes when a file of the folder changes (for the watcher)."""
    out = []
    for f in sorted(path.glob("*")) if path.is_dir() else ():
        if f.suffix in SUFFIXES:
            st = f.stat()
            out.append((f.name, st.st_mtime_ns, st.st_size))
    return tuple(out)


def load(path: str | Path, allow: tuple[str, ...] = DEFAULT_ALLOW) -> Folder:
    """Reads and checks every device file of the folder."""
    folder = Folder(Path(path))
    if not folder.path.is_dir():
        folder.problems.append(Problem(str(path), None, "no such config folder"))
        return folder
    names = _load_names(folder)
    files = sorted(f for f in folder.path.iterdir() if f.suffix in SUFFIXES and f.is_file())
    for f in files:
        if f.stem == NAMES_FILE:
            continue
        device_id = names.get(f.stem, f.stem)
        dev = DeviceConfig(device_id, f.stem, f)
        _load_device(dev, allow)
        if not _ID.match(device_id) or device_id in ("login", "log", "smartserver"):
            dev.problems.append(
                Problem(str(f), None, f"device id {device_id!r} is not usable in topics")
            )
        other = folder.devices.get(device_id)
        if other is not None:
            dev.problems.append(
                Problem(str(f), None, f"device {device_id!r} already configured by {other.path}")
            )
        else:
            folder.devices[device_id] = dev
        folder.problems.extend(dev.problems)
    return folder


def _load_names(folder: Folder) -> dict[str, str]:
    for suffix in SUFFIXES:
        f = folder.path / (NAMES_FILE + suffix)
        if f.exists():
            data, problems = _parse(f)
            folder.problems.extend(problems)
            if data is None:
                return {}
            if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
                folder.problems.append(Problem(str(f), 1, "must map file names to device ids"))
                return {}
            return dict(data)
    return {}


def _parse(f: Path) -> tuple[Any, list[Problem]]:
    duplicates: list[str] = []

    def pairs(items):
        seen = {}
        for k, v in items:
            if k in seen:
                duplicates.append(k)
            seen[k] = v
        return seen

    try:
        text = f.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return None, [Problem(str(f), None, f"cannot read: {e}")]
    try:
        data = hjson.loads(text, object_pairs_hook=pairs) if text.strip() else {}
    except hjson.HjsonDecodeError as e:
        return None, [Problem(str(f), e.lineno, f"hjson syntax: {e.msg} (column {e.colno})")]
    except (ValueError, RecursionError) as e:
        return None, [Problem(str(f), None, f"hjson: {e}")]
    lines = _Lines(text)
    problems = [Problem(str(f), lines.find(k), f"duplicate key {k!r}") for k in duplicates]
    return data, problems


class _Lines:
    """Finds the line where a key is written (hjson gives no positions for values)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, key: str, line: int | None = None) -> int | None:
        """The first line from line (1-based) on where key is written; else line."""
        pattern = re.compile(r"(?:^|[\s{,])[\"']?" + re.escape(key) + r"[\"']?\s*:")
        for i in range((line or 1) - 1, len(self.lines)):
            if pattern.search(self.lines[i]):
                return i + 1
        return line


def _load_device(dev: DeviceConfig, allow: tuple[str, ...]) -> None:
    data, problems = _parse(dev.path)
    dev.problems.extend(problems)
    if data is None:
        return
    path = str(dev.path)
    if not isinstance(data, dict):
        dev.problems.append(Problem(path, 1, "a device file holds one object: key -> component"))
        return
    lines = _Lines(dev.path.read_text(encoding="utf-8"))
    entity_ids: dict[str, str] = {}
    for key, entry in data.items():
        line = lines.find(key)
        if not isinstance(key, str) or not _KEY.match(key):
            dev.problems.append(
                Problem(path, line, f"component key {key!r}: use letters, digits, _ and -")
            )
            continue
        clash = entity_ids.get(key.lower())
        if clash is not None:
            dev.problems.append(
                Problem(path, line, f"keys {clash!r} and {key!r} give the same entity id")
            )
        entity_ids[key.lower()] = key
        if _check_entry(dev, key, entry, line, lines, allow):
            dev.components[key] = entry
            dev.order.append(key)
    _check_references(dev, lines)


def _check_entry(dev, key, entry, line, lines, allow) -> bool:
    path = str(dev.path)
    problems = dev.problems
    if not isinstance(entry, dict):
        problems.append(Problem(path, line, f"{key}: must be an object with package, component"))
        return False
    ok = True
    for extra in entry:
        if extra not in ENTRY_KEYS:
            problems.append(
                Problem(
                    path,
                    lines.find(extra, line),
                    f"{key}: unknown key {extra!r} (allowed: {', '.join(ENTRY_KEYS)})",
                )
            )
            ok = False
    package, cls_name = entry.get("package"), entry.get("component")
    args = entry.get("constructor_args", {})
    if not isinstance(package, str) or not package:
        problems.append(Problem(path, line, f"{key}: 'package' is missing"))
        return False
    if not isinstance(cls_name, str) or not cls_name:
        problems.append(Problem(path, line, f"{key}: 'component' is missing"))
        return False
    if not isinstance(args, dict):
        problems.append(Problem(path, line, f"{key}: 'constructor_args' must be an object"))
        return False
    module_name = expand_package(package)
    if not module_name.startswith(tuple(allow)):
        problems.append(
            Problem(
                path,
                lines.find("package", line),
                f"{key}: package {module_name!r} is outside the allow-list"
                f" ({', '.join(allow)}): a node refuses it",
            )
        )
        return False
    try:
        canonical_dumps(entry)
    except (TypeError, ValueError) as e:
        problems.append(Problem(path, line, f"{key}: {e}"))
        return False
    target = _import(dev, key, module_name, cls_name, line, lines)
    if target is not None:
        ok = _check_signature(dev, key, target, args, line, lines) and ok
    elif target is None and problems and problems[-1].severity == "error":
        ok = False
    return ok


def _import(dev, key, module_name, cls_name, line, lines):
    path = str(dev.path)
    package_line = lines.find("package", line)
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        dev.problems.append(Problem(path, package_line, f"{key}: unknown package {module_name!r}"))
        return None
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # device code that needs a board: cannot check further here
        dev.problems.append(
            Problem(
                path,
                package_line,
                f"{key}: {module_name} does not import on this host ({type(e).__name__}: {e});"
                " its arguments are not checked",
                "warning",
            )
        )
        return None
    target = getattr(module, cls_name, None)
    if target is None or not callable(target):
        dev.problems.append(
            Problem(
                path,
                lines.find("component", line),
                f"{key}: {module_name} has no class or function {cls_name!r}",
            )
        )
        return None
    return target


def _check_signature(dev, key, target, args, line, lines) -> bool:
    path = str(dev.path)
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return True  # a builtin: nothing to read
    params = list(sig.parameters.values())
    if params and params[0].name == "name":  # the registry passes the config key as name
        params = params[1:]
    names = {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    takes_any = any(p.kind == p.VAR_KEYWORD for p in params)
    shown = f"{getattr(target, '__name__', target)}{sig}"
    if takes_any and inspect.isclass(target):
        # **kwargs usually goes on to the base class (ComponentSensor's intervals, ...): what
        # the bases take is what it accepts, unless one of them takes anything too
        bases_names, takes_any = _base_parameters(target)
        names |= bases_names
        if not takes_any:
            shown += " and its base classes (" + ", ".join(sorted(bases_names)) + ")"
    ok = True
    for arg in args:
        if arg not in names and not takes_any:
            dev.problems.append(
                Problem(
                    path,
                    lines.find(arg, line),
                    f"{key}: constructor argument {arg!r} is not accepted by {shown}",
                )
            )
            ok = False
    for p in params:
        if (
            p.default is p.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and p.name not in args
        ):
            dev.problems.append(
                Problem(path, line, f"{key}: constructor argument {p.name!r} is missing ({shown})")
            )
            ok = False
    return ok


def _base_parameters(cls) -> tuple[set[str], bool]:
    """The keyword names the base classes' __init__ take, and whether one takes any."""
    names: set[str] = set()
    for base in inspect.getmro(cls)[1:]:
        init = base.__dict__.get("__init__")
        if init is None:
            continue
        if base is object:
            return names, False
        try:
            params = list(inspect.signature(init).parameters.values())[1:]  # without self
        except (TypeError, ValueError):
            return names, True
        names |= {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        names.discard("name")  # the config key, passed on by the subclass
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names, False
    return names, False


def references(value: Any) -> list[str]:
    """The config keys value refers to ({"ref": key} anywhere inside it)."""
    if isinstance(value, dict):
        if set(value) == {REFERENCE} and isinstance(value[REFERENCE], str):
            return [value[REFERENCE]]
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def _check_references(dev: DeviceConfig, lines: _Lines) -> None:
    path = str(dev.path)
    graph = {}
    for key, entry in list(dev.components.items()):
        refs = references(entry.get("constructor_args", {}))
        graph[key] = refs
        for ref in refs:
            if ref not in dev.components:
                dev.problems.append(
                    Problem(
                        path,
                        lines.find(key),
                        f"{key}: refers to {ref!r}, which is not a component of this device",
                    )
                )
    reported = set()
    for start in graph:
        cycle = _find_cycle(graph, start)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            dev.problems.append(
                Problem(
                    path, lines.find(start), "cyclic reference: " + " -> ".join(cycle + [cycle[0]])
                )
            )


def _find_cycle(graph: dict[str, list[str]], start: str) -> list[str] | None:
    stack = [(start, [start])]
    while stack:
        node, trail = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return trail
            if nxt not in trail and nxt in graph:
                stack.append((nxt, trail + [nxt]))
    return None
