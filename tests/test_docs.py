"""The docs tell the truth: every relative link resolves, and what they promise is there."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
from pathlib import Path

import pytest
from harness import REPO, require_tool

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
FENCED = re.compile(r"```.*?```", re.S)


def anchors(path: Path) -> set[str]:
    """GitHub's ids for the headings of a Markdown file."""
    found = set()
    for line in FENCED.sub("", path.read_text()).splitlines():  # inline code counts
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading[1].strip().lower().replace("`", ""))
            found.add(text.replace(" ", "-"))
    return found


def relative_links(path: Path) -> list[str]:
    text = CODE.sub("", path.read_text())
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(REPO)) for d in DOCS])
def test_every_relative_link_resolves(doc: Path) -> None:
    broken = []
    for target in relative_links(doc):
        file, _, anchor = target.partition("#")
        dest = (doc.parent / file).resolve() if file else doc
        if not dest.exists() or REPO not in [dest, *dest.parents]:
            broken.append(f"{target}: no such file in the repo")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.name}")
    assert not broken, f"{doc.name}: {broken}"


def test_link_check_sees_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Top\n[a](missing.md) [b](#top) [c](https://example.org) `[d](no.md)`\n")
    assert relative_links(page) == ["missing.md", "#top"]
    assert anchors(page) == {"top"}


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(REPO)) for d in DOCS])
def test_docs_cite_no_design_notes_the_repo_does_not_have(doc: Path) -> None:
    assert "DESIGN §" not in doc.read_text()


def test_readme_links_every_page_in_docs() -> None:
    linked = {Path(t.partition("#")[0]) for t in relative_links(REPO / "README.md")}
    for page in sorted((REPO / "docs").glob("*.md")):
        assert page.relative_to(REPO) in linked, f"README.md does not link {page.name}"


def test_readme_says_what_is_tested_and_what_is_not() -> None:
    text = re.sub(r"\s+", " ", (REPO / "README.md").read_text())
    assert "tested on CPython and on the MicroPython unix port" in text
    assert "boards" in text and "fakes" in text


def test_systemd_unit_example_is_a_valid_unit_that_runs_the_node(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze", "apt-get install systemd")
    node_md = (REPO / "docs" / "node.md").read_text()
    unit = re.search(r"### Running under systemd.*?```ini\n(.*?)```", node_md, re.S)[1]
    assert "ExecStart=/home/pi/pysmartnode/run.sh --config /home/pi/node/config.py" in unit
    # The example's paths made real here: this checkout, a config file, a user that exists
    config = tmp_path / "config.py"
    config.write_text("MQTT_HOST = 'broker.lan'\n")
    unit = unit.replace("/home/pi/pysmartnode", str(REPO)).replace(
        "/home/pi/node/config.py", str(config)
    )
    path = tmp_path / "pysmartnode.service"
    path.write_text(unit.replace("User=pi", f"User={pwd.getpwuid(os.getuid()).pw_name}"))
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
