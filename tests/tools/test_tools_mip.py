"""package.json for mip matches the device-module list, and mip itself installs a node from it."""

from __future__ import annotations

import json
import shutil
import subprocess

from harness import REPO, micropython_path
from tool_modules import load_tool

mip_package = load_tool("mip_package")
device_modules = load_tool("device_modules")


def test_the_committed_package_files_are_what_the_tool_makes_from_the_tree():
    assert mip_package.main(["--check"]) == 0, "run python3 tools/mip_package.py"


def test_every_device_file_is_in_exactly_one_package_and_no_host_only_one():
    placed = []
    for path, content in mip_package.packages().items():
        for target, url in content["urls"]:
            assert (path.parent / url).is_file(), (path, url)  # the relative URL resolves
            placed.append(target)
    devices = [rel for _, rel in device_modules.device_sources() + device_modules.device_data()]
    kind_inits = [t for t in placed if t.endswith("/__init__.py") and placed.count(t) > 1]
    assert sorted(set(placed)) == sorted(devices)
    assert not [t for t in placed if placed.count(t) > 1 and t not in kind_inits]
    assert not set(placed) & device_modules.HOST_ONLY


def test_a_new_component_gets_its_own_package(tmp_path, monkeypatch):
    sources = device_modules.device_sources()
    fake = (tmp_path / "bh1750.py", "pysmartnode/components/sensors/bh1750.py")
    monkeypatch.setattr(mip_package, "device_sources", lambda: sources + [fake])
    packages = mip_package.packages()
    mine = packages[REPO / "pysmartnode" / "components" / "sensors" / "bh1750.json"]
    assert mine["urls"] == [
        ["pysmartnode/components/sensors/__init__.py", "__init__.py"],
        ["pysmartnode/components/sensors/bh1750.py", "bh1750.py"],
    ]
    core = [t for t, _ in packages[REPO / "package.json"]["urls"]]
    assert fake[1] not in core and "pysmartnode/components/machine/status.py" in core


def test_mip_on_the_unix_port_installs_the_node_from_package_json(
    tmp_path, repo_server, mosquitto, observer
):
    micropython = micropython_path()
    board = tmp_path / "board"
    lib = board / "lib"
    done = subprocess.run(
        [micropython, "-m", "mip", "install", "--target", str(lib), repo_server + "/package.json"],
        capture_output=True, text=True, timeout=120, env={"MICROPYPATH": ".frozen"}, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0 and "Done" in done.stdout, done.stdout + done.stderr
    wanted = json.loads((REPO / "package.json").read_text())["urls"]
    for target, url in wanted:
        assert (lib / target).read_bytes() == (REPO / url).read_bytes(), target
    shutil.copy(REPO / "main.py", board / "main.py")
    (board / "config.py").write_text(
        'MQTT_HOST = "%s"\nMQTT_PORT = %d\nDEVICE_NAME = "mipped"\nRTC_SYNC_ACTIVE = False\n'
        % (mosquitto.host, mosquitto.port)
    )
    obs = observer(mosquitto)
    obs.subscribe("home/mipped/#")
    proc = subprocess.Popen(
        [micropython, "main.py"], cwd=board, env={"MICROPYPATH": ".frozen:lib"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert obs.wait_message("home/mipped/available", b"online", timeout=20)
    finally:
        proc.kill()
        output = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert "Traceback" not in output, output
