"""./test.sh runs the suite on several pytest-xdist workers (--dist loadgroup): the tests that
must not overlap, or that share a module's node, stay on one worker (tests/conftest.py)."""

from __future__ import annotations

import collections
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness import REPO, missing, require_tool

TESTS = Path(__file__).resolve().parent

# Each test writes "<file>::<test> <worker>" to a log: which worker ran what
_RECORD = """
import os
from pathlib import Path

import pytest


def record(request):
    line = "%s %s\\n" % (request.node.nodeid.split("@")[0], os.environ["PYTEST_XDIST_WORKER"])
    with open(os.environ["RUN_LOG"], "a") as f:
        f.write(line)
"""

MARKED = (
    _RECORD
    + """
pytestmark = pytest.mark.xdist_group("fixed-port")


@pytest.mark.parametrize("i", range(4))
def test_marked(request, i):
    record(request)
"""
)

SHARED = (
    _RECORD
    + """
import time


@pytest.fixture(scope="module", params=["a", "b"])
def node(request):
    yield request.param  # as a node is: started once, stopped at the end of the module


@pytest.mark.parametrize("i", range(3))
def test_shared(request, node, i):
    record(request)


@pytest.mark.parametrize("i", range(6))
def test_free(request, i):
    record(request)
    # Each takes a moment, as real tests do: done at once, the first worker ready could take
    # all six while the other was still busy with its group (seen in CI under load)
    time.sleep(0.5)
"""
)


def test_grouped_tests_run_on_one_worker_and_the_others_spread(tmp_path: Path) -> None:
    if importlib.util.find_spec("xdist") is None:
        missing("pytest-xdist", "./test.sh installs it (the project's test extra)")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_marked.py").write_text(MARKED)
    (tmp_path / "test_shared.py").write_text(SHARED)
    log = tmp_path / "run.log"
    env = dict(os.environ, RUN_LOG=str(log), PYTHONPATH=str(TESTS))
    # tests/conftest.py as a plugin: its hook makes the groups of shared module fixtures
    argv = [sys.executable, "-m", "pytest", "-p", "conftest", "-n", "2", "--dist", "loadgroup"]
    done = subprocess.run(
        argv + ["-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    workers = collections.defaultdict(set)
    for line in log.read_text().splitlines():
        test, worker = line.rsplit(" ", 1)
        name = test.split("::")[1]
        key = name.split("[")[0] + ("-" + name.split("[")[1][0] if "shared" in name else "")
        workers[key].add(worker)
    assert sum(1 for _ in log.read_text().splitlines()) == 4 + 6 + 6
    assert len(workers["test_marked"]) == 1, workers
    assert len(workers["test_shared-a"]) == 1 and len(workers["test_shared-b"]) == 1, workers
    assert len(workers["test_free"]) > 1, workers  # the rest is spread over the workers


def _fake_micropython_tree(tree: Path) -> Path:
    """A folder that tools/firmware.py takes for a MicroPython clone: its version headers and
    makefiles that write stand-ins for mpy-cross and the unix port (each build a new content)."""
    (tree / "py").mkdir(parents=True)
    (tree / "py" / "mpconfig.h").write_text(
        "#define MICROPY_VERSION_MAJOR 1\n#define MICROPY_VERSION_MINOR 29\n"
        "#define MICROPY_VERSION_MICRO 0\n"
    )
    (tree / "py" / "persistentcode.h").write_text(
        "#define MPY_VERSION 6\n#define MPY_SUB_VERSION 3\n"
    )
    for folder, target in (
        ("mpy-cross", "build/mpy-cross"),
        ("ports/unix", "$(BUILD)/micropython"),
    ):
        (tree / folder).mkdir(parents=True)
        (tree / folder / "Makefile").write_text(
            f"all:\n\tmkdir -p $(dir {target})\n\tdate +%s%N > {target}\n"
        )
    return tree


def test_a_rebuild_of_a_clone_never_leaves_the_cached_binary_missing(tmp_path, monkeypatch):
    # Test workers share the firmware cache: while one rebuilds a clone's firmware (make decides
    # what is out of date), another may be starting that binary by its path
    require_tool("make", "apt-get install make")
    spec = importlib.util.spec_from_file_location(
        "firmware_under_test", REPO / "tools" / "firmware.py"
    )
    firmware = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, firmware)  # for its dataclass
    spec.loader.exec_module(firmware)
    tree = _fake_micropython_tree(tmp_path / "micropython")
    cache = tmp_path / "cache"
    first = firmware.build_firmware(tree, cache=cache)
    assert first.built and first.micropython.read_text().strip()

    gaps = []

    def watched(function):
        def call(*args, **kwargs):
            result = function(*args, **kwargs)
            if not first.micropython.exists():
                gaps.append(function.__name__)
            return result

        return call

    monkeypatch.setattr(firmware.shutil, "rmtree", watched(shutil.rmtree))
    monkeypatch.setattr(firmware.os, "replace", watched(os.replace))
    monkeypatch.setattr(Path, "rename", watched(Path.rename))
    before = first.micropython.read_text()
    again = firmware.build_firmware(tree, cache=cache)
    assert again.micropython == first.micropython
    assert again.micropython.read_text() != before  # the new build is in place
    assert not gaps, f"the binary was missing after {gaps}"
