"""Write the package.json files mip installs from, made from tools/device_modules.py's list.

    python3 tools/mip_package.py           # (re)write them
    python3 tools/mip_package.py --check   # exit 1 if one is missing or out of date

On a board (or with mpremote), from a GitHub copy of this repository:
    mip.install("github:OWNER/pysmartnode")                         # the framework + mqtt_as
    mip.install("github:OWNER/pysmartnode/pysmartnode/components/sensors/bh1750.json")  # one component

- package.json (repository root): every device module but the optional components, mqtt_as
  included; main.py is not in it (mip installs into /lib): copy main.py to the board's root.
- pysmartnode/components/<kind>/<name>.json beside each optional component: that file, its
  helper modules and data files (http_api.py, http_page.html.gz beside http.py), the shared
  helpers of its folder it imports (`_display.py`, imported by ssd1306.py and lcd1602.py, goes
  into both packages) and its kind's __init__.py (install the framework first).
URLs are relative to each package.json, which mip resolves against the URL it was fetched from.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from device_modules import REPO, device_data, device_sources  # noqa: E402

# Components the framework itself starts (not optional, so part of the core package)
BUILT_IN = frozenset({"pysmartnode/components/machine/status.py"})
_COMPONENT = re.compile(r"^pysmartnode/components/([a-z0-9_]+)/([a-z0-9_]+)\.py$")


def version() -> str:
    text = (REPO / "pysmartnode" / "version.py").read_text()
    return re.search(r'VERSION = "([^"]+)"', text).group(1)


def optional_components() -> list[str]:
    """Device paths of the modules installed one component at a time (helpers included)."""
    out = []
    for _, rel in device_sources():
        m = _COMPONENT.match(rel)
        if m and m.group(2) != "__init__" and rel not in BUILT_IN:
            out.append(rel)
    return out


def _shared(rel: str) -> bool:
    # a module of a components folder named `_x.py` serves every component there importing it
    return rel.rsplit("/", 1)[1].startswith("_") and not rel.endswith("/__init__.py")


def _imports(src: Path, rel: str) -> set[str]:
    """Device paths of the modules a source file imports, wherever in it (lazy imports too)."""
    package = rel.rsplit("/", 1)[0].split("/")
    out = set()
    for node in ast.walk(ast.parse(src.read_text(), str(src))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = base + (node.module.split(".") if node.module else [])
            names = [".".join(module)] + [".".join(module + [a.name]) for a in node.names]
        else:
            continue
        out.update(name.replace(".", "/") + ".py" for name in names)
    return out


def _shared_helpers(files: list[str], sources: dict[str, Path], shared: set[str]) -> list[str]:
    """The shared helpers the files import, directly or through each other, sorted."""
    found, todo = set(), list(files)
    while todo:
        rel = todo.pop()
        if rel not in sources:  # a data file
            continue
        for used in _imports(sources[rel], rel) & shared:
            if used.rsplit("/", 1)[0] != files[0].rsplit("/", 1)[0]:
                raise ValueError("%s imports %s: a shared helper of another folder" % (rel, used))
            if used not in found:
                found.add(used)
                todo.append(used)
    return sorted(found)


def _helper_of(rel: str, optional: set[str]) -> str | None:
    # http_api.py (or the data file http_page.html.gz) beside http.py is a part of the http
    # component, not a component of its own
    folder, name = rel.rsplit("/", 1)
    stem = name.split(".", 1)[0]
    for i in range(len(stem) - 1, 0, -1):
        if stem[i] == "_" and "%s/%s.py" % (folder, stem[:i]) in optional:
            return "%s/%s.py" % (folder, stem[:i])
    return None


def packages() -> dict[Path, dict]:
    """package.json path -> its content, for every package; ValueError if a shared helper is
    imported by no component or from another folder."""
    ver = version()
    optional = set(optional_components())
    sources = {rel: src for src, rel in device_sources()}
    shared = {rel for rel in optional if _shared(rel)}
    core = [
        [rel, src.relative_to(REPO).as_posix()]  # (on the board, in the repository)
        for src, rel in device_sources()
        if rel not in optional
    ]
    out = {REPO / "package.json": {"urls": core, "deps": [], "version": ver}}
    helpers: dict[str, list[str]] = {}
    for rel in sorted(optional - shared):
        owner = _helper_of(rel, optional)
        if owner:
            helpers.setdefault(owner, []).append(rel)
    for _, rel in device_data():  # with the component it belongs to, else with the framework
        owner = _helper_of(rel, optional)
        if owner:
            helpers.setdefault(owner, []).append(rel)
        else:
            core.append([rel, rel])
    unused = set(shared)
    for rel in sorted(optional - shared):
        if _helper_of(rel, optional):
            continue
        path = REPO / Path(rel).with_suffix(".json")
        kind_init = rel.rsplit("/", 1)[0] + "/__init__.py"
        files = [rel, *helpers.get(rel, [])]
        files += _shared_helpers(files, sources, shared)
        unused.difference_update(files)
        out[path] = {
            "urls": [[kind_init, "__init__.py"], *([f, Path(f).name] for f in files)],
            "deps": [],
            "version": ver,
        }
    if unused:
        raise ValueError("no component imports %s" % ", ".join(sorted(unused)))
    return out


def render(content: dict) -> str:
    """The JSON text, one file per line."""
    urls = ",\n".join("    " + json.dumps(pair) for pair in content["urls"])
    return '{\n  "urls": [\n%s\n  ],\n  "deps": %s,\n  "version": %s\n}\n' % (
        urls,
        json.dumps(content["deps"]),
        json.dumps(content["version"]),
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check they are up to date")
    args = parser.parse_args(argv)
    try:
        wanted = packages()
    except ValueError as e:
        print("mip_package: %s" % e)
        return 1
    stale = [p for p, c in wanted.items() if not p.exists() or p.read_text() != render(c)]
    # a component's .json left behind after its .py was removed
    orphans = [p for p in (REPO / "pysmartnode" / "components").rglob("*.json") if p not in wanted]
    if args.check:
        for p in stale:
            print("mip_package: out of date: %s" % p.relative_to(REPO))
        for p in orphans:
            print("mip_package: no component for: %s" % p.relative_to(REPO))
        if stale or orphans:
            print("mip_package: run `python3 tools/mip_package.py`")
            return 1
        return 0
    for p in stale:
        p.write_text(render(wanted[p]))
        print("mip_package: wrote %s" % p.relative_to(REPO))
    for p in orphans:
        p.unlink()
        print("mip_package: removed %s" % p.relative_to(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
