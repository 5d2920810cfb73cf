"""Write the package.json files mip installs from, made from tools/device_modules.py's list.

    python3 tools/mip_package.py           # (re)write them
    python3 tools/mip_package.py --check   # exit 1 if one is missing or out of date

On a board (or with mpremote), from a GitHub copy of this repository:
    mip.install("github:OWNER/pysmartnode")                         # the framework + mqtt_as
    mip.install("github:OWNER/pysmartnode/pysmartnode/components/sensors/bh1750.json")  # one component

- package.json (repository root): every device module but the optional components, mqtt_as
  included; main.py is not in it (mip installs into /lib): copy main.py to the board's root.
- pysmartnode/components/<kind>/<name>.json beside each optional component: that file, its
  helper modules and data files (http_api.py, http_page.html.gz beside http.py) and its kind's
  __init__.py (install the framework first).
URLs are relative to each package.json, which mip resolves against the URL it was fetched from.
"""

from __future__ import annotations

import argparse
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
    """package.json path -> its content, for every package."""
    ver = version()
    optional = set(optional_components())
    core = [
        [rel, src.relative_to(REPO).as_posix()]  # (on the board, in the repository)
        for src, rel in device_sources()
        if rel not in optional
    ]
    out = {REPO / "package.json": {"urls": core, "deps": [], "version": ver}}
    helpers: dict[str, list[str]] = {}
    for rel in sorted(optional):
        owner = _helper_of(rel, optional)
        if owner:
            helpers.setdefault(owner, []).append(rel)
    for _, rel in device_data():  # with the component it belongs to, else with the framework
        owner = _helper_of(rel, optional)
        if owner:
            helpers.setdefault(owner, []).append(rel)
        else:
            core.append([rel, rel])
    for rel in sorted(optional):
        if _helper_of(rel, optional):
            continue
        path = REPO / Path(rel).with_suffix(".json")
        kind_init = rel.rsplit("/", 1)[0] + "/__init__.py"
        files = [rel, *helpers.get(rel, [])]
        out[path] = {
            "urls": [[kind_init, "__init__.py"], *([f, Path(f).name] for f in files)],
            "deps": [],
            "version": ver,
        }
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
    wanted = packages()
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
