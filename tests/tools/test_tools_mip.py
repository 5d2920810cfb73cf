"""package.json for mip matches the device-module list, and mip itself installs a node from it."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest
from harness import REPO, micropython_path
from tool_modules import load_tool

mip_package = load_tool("mip_package")
device_modules = load_tool("device_modules")


def test_the_committed_package_files_are_what_the_tool_makes_from_the_tree():
    assert mip_package.main(["--check"]) == 0, "run python3 tools/mip_package.py"


def test_every_device_file_is_in_exactly_one_package_and_no_host_only_one():
    """... but a kind's __init__.py and a shared helper (`_x.py`), in each package needing it."""
    placed = []
    for path, content in mip_package.packages().items():
        for target, url in content["urls"]:
            assert (path.parent / url).is_file(), (path, url)  # the relative URL resolves
            placed.append(target)
    devices = [rel for _, rel in device_modules.device_sources() + device_modules.device_data()]
    kind_inits = [t for t in placed if t.endswith("/__init__.py") and placed.count(t) > 1]
    shared = [t for t in placed if t.rsplit("/", 1)[1].startswith("_") and t not in kind_inits]
    assert sorted(set(placed)) == sorted(devices)
    assert not [t for t in placed if placed.count(t) > 1 and t not in kind_inits + shared]
    assert not set(placed) & device_modules.HOST_ONLY


def test_the_display_helper_goes_into_the_package_of_each_display_and_nowhere_else():
    helper = "pysmartnode/components/devices/_display.py"
    holding = sorted(
        path.relative_to(REPO).as_posix()
        for path, content in mip_package.packages().items()
        if helper in [target for target, _ in content["urls"]]
    )
    assert holding == [
        "pysmartnode/components/devices/lcd1602.json",
        "pysmartnode/components/devices/ssd1306.json",
    ]


def test_a_shared_helper_follows_the_imports_and_one_nobody_imports_is_an_error(
    tmp_path, monkeypatch
):
    sources = device_modules.device_sources()
    folder = "pysmartnode/components/sensors/"
    files = {  # a lazy import, a relative one, a helper through a helper, a component without
        "aa1.py": "def f():\n    from pysmartnode.components.sensors._aa import x\n",
        "aa2.py": "from . import _ab\n",
        "_aa.py": "x = 1\n",
        "_ab.py": "import pysmartnode.components.sensors._aa\n",
        "aa3.py": "import asyncio\n",
    }
    fakes = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        fakes.append((tmp_path / name, folder + name))
    monkeypatch.setattr(mip_package, "device_sources", lambda: sources + fakes)
    packages = mip_package.packages()

    def urls(name):
        return [t for t, _ in packages[REPO / folder / name]["urls"]][1:]

    assert urls("aa1.json") == [folder + "aa1.py", folder + "_aa.py"]
    assert urls("aa2.json") == [folder + "aa2.py", folder + "_aa.py", folder + "_ab.py"]
    assert urls("aa3.json") == [folder + "aa3.py"]
    (tmp_path / "_ac.py").write_text("y = 2\n")
    fakes.append((tmp_path / "_ac.py", folder + "_ac.py"))
    with pytest.raises(ValueError, match="no component imports .*_ac.py"):
        mip_package.packages()


def test_a_new_component_gets_its_own_package(tmp_path, monkeypatch):
    sources = device_modules.device_sources()
    fake = (tmp_path / "bh1750.py", "pysmartnode/components/sensors/bh1750.py")
    fake[0].write_text("import asyncio\n")
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


# a sensor of the board's own (beside components.py), so lib holds the framework and the display
_FIXED = """from pysmartnode.utils.component import ComponentSensor


class Fixed(ComponentSensor):
    def __init__(self, name, **kwargs):
        super().__init__(name, interval_reading=1, interval_publish=1, **kwargs)
        self._add_sensor_type("temperature")

    async def _read(self):
        self._set_value("temperature", 21.5)
"""
_FRAMEBUF = """import framebuf, sys
b = bytearray(1024)
framebuf.FrameBuffer(b, 128, 64, framebuf.MONO_VLSB).text("Air 21.5", 0, 0, 1)
sys.stdout.write(b.hex())
"""


@pytest.mark.parametrize("display", ["ssd1306", "lcd1602"])
def test_mip_installs_each_display_component_alone_and_it_shows_its_line(
    tmp_path, repo_server, mosquitto, display
):
    micropython = micropython_path()
    board, screens = tmp_path / "board", tmp_path / "screens"
    lib = board / "lib"
    screens.mkdir()
    package = "pysmartnode/components/devices/%s.json" % display
    for url in ("package.json", package):  # the framework, then the one component
        done = subprocess.run(
            [micropython, "-m", "mip", "install", "--target", str(lib), repo_server + "/" + url],
            capture_output=True, text=True, timeout=120, env={"MICROPYPATH": ".frozen"},
            cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0 and "Done" in done.stdout, done.stdout + done.stderr
    wanted = {t for u in ("package.json", package) for t, _ in json.loads((REPO / u).read_text())["urls"]}  # fmt: skip  # noqa: E501
    assert {p.relative_to(lib).as_posix() for p in lib.rglob("*") if p.is_file()} == wanted
    shutil.copy(REPO / "main.py", board / "main.py")
    (board / "fixed.py").write_text(_FIXED)
    (board / "config.py").write_text(
        'MQTT_HOST = "%s"\nMQTT_PORT = %d\nDEVICE_NAME = "mipped"\nRTC_SYNC_ACTIVE = False\n'
        % (mosquitto.host, mosquitto.port)
    )
    args = {"sda": 21, "scl": 22, "sensors": [{"ref": "air"}], "labels": ["Air"], "interval": 1}
    components = {
        "air": {"package": "fixed", "component": "Fixed"},
        "screen": {"package": ".devices." + display, "component": display.upper(),
                   "constructor_args": args},
    }  # fmt: skip
    (board / "components.py").write_text("COMPONENTS = %r\n" % (components,))
    if display == "ssd1306":  # framebuf's rendering, then the display-on flag
        out = subprocess.run([micropython, "-c", _FRAMEBUF], capture_output=True, text=True,
                             timeout=30, check=True)  # fmt: skip
        screen, want = screens / "i2c-60.bin", bytes.fromhex(out.stdout) + b"\x01"
    else:
        screen, want = screens / "i2c-39.txt", ("Air 21.5".ljust(16) + "\n" + " " * 16).encode()
    fakes = str(REPO / "tests" / "fakes")  # the fake machine.I2C and the displays behind it
    proc = subprocess.Popen(
        [micropython, "main.py"], cwd=board, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={"MICROPYPATH": ".frozen:lib:" + fakes, "FAKE_DISPLAYS": str(screens)},
    )  # fmt: skip
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while seen != want and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            seen = screen.read_bytes() if screen.exists() else b""
    finally:
        proc.kill()
        output = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert seen == want, output
    assert "Traceback" not in output and "rror" not in output, output
