"""tools/firmware.py builds a unix port with the device tree frozen in, and a node runs from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
from harness import REPO, micropython_path
from tool_modules import load_tool

firmware_tool = load_tool("firmware")


def node_folder(tmp_path, broker, device_id):
    """A folder holding only main.py and config.py, as a board's filesystem does."""
    folder = tmp_path / "board"
    folder.mkdir()
    shutil.copy(REPO / "main.py", folder / "main.py")
    (folder / "config.py").write_text(
        'MQTT_HOST = "%s"\nMQTT_PORT = %d\nDEVICE_NAME = "%s"\nRTC_SYNC_ACTIVE = False\n'
        % (broker.host, broker.port, device_id)
    )
    return folder


def test_a_node_runs_from_the_frozen_firmware_with_only_main_and_config_beside(
    firmware, tmp_path, mosquitto, observer
):
    folder = node_folder(tmp_path, mosquitto, "frozen")
    obs = observer(mosquitto)
    obs.subscribe("home/frozen/#")
    # Only the frozen modules: no repo, no ~/.micropython/lib on the path
    env = {"MICROPYPATH": ".frozen", "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [str(firmware.micropython), "main.py"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert obs.wait_message("home/frozen/available", b"online", timeout=20)
        mark = obs.mark()
        obs.publish("home/frozen/status/set", "now")
        status = obs.wait_message("home/frozen/status", after=mark, timeout=15).json()
        assert status["id"] == "frozen" and status["platform"] == "unix"
    finally:
        proc.kill()
        output = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert "Traceback" not in output, output
    assert sorted(p.name for p in folder.iterdir()) == ["config.py", "main.py"]


def test_the_stock_unix_port_cannot_run_that_folder_so_the_code_came_from_the_freeze(
    firmware, tmp_path, mosquitto
):
    folder = node_folder(tmp_path, mosquitto, "stock")
    done = subprocess.run(
        [micropython_path(), "main.py"],
        cwd=folder,
        env={"MICROPYPATH": ".frozen", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode != 0 and "pysmartnode" in done.stdout + done.stderr


def test_the_frozen_firmware_holds_every_device_module_and_no_host_only_one(firmware):
    device = load_tool("device_modules")
    done = subprocess.run(
        [str(firmware.micropython), "-c", "help('modules')"],
        env={"MICROPYPATH": ".frozen"},
        capture_output=True,
        text=True,
        timeout=20,
    )
    frozen = set(done.stdout.split())  # frozen modules are listed as "pysmartnode/node" etc.
    assert "asyncio/core" in frozen
    assert not [rel for _, rel in device.device_sources() if rel[:-3] not in frozen]
    assert not [rel for rel in device.HOST_ONLY if rel[:-3] in frozen]


def test_firmware_versions_read_from_the_tree(firmware):
    assert firmware.mpy_abi == "6.3" and firmware.version.startswith("1.")
    out = subprocess.run([str(firmware.mpy_cross), "--version"], capture_output=True, text=True)
    assert "mpy v" + firmware.mpy_abi in out.stdout


def test_a_folder_that_is_not_a_micropython_tree_is_refused_with_the_way_to_get_one(tmp_path):
    with pytest.raises(firmware_tool.FirmwareError, match="git clone"):
        firmware_tool.build_firmware(tmp_path, cache=tmp_path / "cache")
    assert firmware_tool.main([str(tmp_path / "nothing-here")]) == 1


def test_the_cache_key_changes_with_the_frozen_code_and_the_options(tmp_path, monkeypatch):
    key = firmware_tool.build_key("tar:abc", 64)
    assert key == firmware_tool.build_key("tar:abc", 64)
    assert key != firmware_tool.build_key("tar:abd", 64)
    assert key != firmware_tool.build_key("tar:abc", 32)
    extra = tmp_path / "new.py"
    extra.write_text("x = 1\n")
    sources = firmware_tool.device_sources()
    monkeypatch.setattr(
        firmware_tool, "device_sources", lambda: sources + [(extra, "pysmartnode/new.py")]
    )
    changed = firmware_tool.build_key("tar:abc", 64)
    extra.write_text("x = 2\n")
    assert key != changed != firmware_tool.build_key("tar:abc", 64)


def test_the_command_prints_where_the_binaries_are_and_copies_them(firmware, tmp_path, capsys):
    source = firmware_tool.find_source()
    assert firmware_tool.main([str(source), "--out", str(tmp_path / "bin")]) == 0
    out = capsys.readouterr().out
    assert "MicroPython %s, .mpy %s" % (firmware.version, firmware.mpy_abi) in out
    copied = tmp_path / "bin" / "micropython"
    assert str(copied) in out and copied.read_bytes() == firmware.micropython.read_bytes()


def test_the_cache_drops_builds_unused_for_a_day_beyond_the_newest_few(tmp_path):
    now = 1_000_000_000.0
    builds = []
    for i in range(firmware_tool.KEEP_BUILDS + 4):
        folder = tmp_path / ("build%02d" % i)
        folder.mkdir()
        info = folder / "firmware.json"
        info.write_text("{}")
        # build00 used just now, each next one an hour less recently; the last two 3 days ago
        age = 3 * 86400 if i >= firmware_tool.KEEP_BUILDS + 2 else i * 3600
        os.utime(info, (now - age, now - age))
        builds.append(folder)
    (tmp_path / "logs").mkdir()  # not a build: left alone
    keep = builds[-1]  # the one just made (an old clock, say) is never removed
    gone = firmware_tool.prune(tmp_path, keep=keep, now=now)
    # beyond the newest KEEP_BUILDS, only those unused for over a day go
    assert sorted(gone) == [builds[firmware_tool.KEEP_BUILDS + 2]]
    assert [b.exists() for b in builds] == [True] * (firmware_tool.KEEP_BUILDS + 2) + [False, True]
    assert (tmp_path / "logs").exists()


def test_a_build_taken_from_the_cache_counts_as_used(firmware):
    info = firmware.micropython.parent / "firmware.json"
    hour_ago = time.time() - 3600  # not so old that a build beside this test could prune it
    os.utime(info, (hour_ago, hour_ago))
    again = firmware_tool.build_firmware(firmware_tool.find_source())
    assert again.micropython == firmware.micropython
    assert info.stat().st_mtime > hour_ago + 3000


# Imports a node's start-up imports and loads a config file, listing the interned strings (qstrs)
# the heap holds before and after: the script's own are interned when it is compiled, so the
# second list's extra lines are what the run added
INTERNING_SCRIPT = """
import micropython
micropython.qstr_info(1)
print("--- run")
from pysmartnode.startup import load_settings
load_settings(["--config", "config.py"])
from pysmartnode.networking.mqtt import MQTTHandle
from pysmartnode.components.machine.status import Status
from pysmartnode.utils.watchdog import Watchdog
from pysmartnode.utils.component import discovery
from pysmartnode import logging, node, platform
from pysmartnode.logging import logger
from pysmartnode.platform import _host
logger.configure
logging.getLogger(platform.device_id())
_host.clean_name("ZqXv-Jw 9")
import asyncio
asyncio.Event
micropython.qstr_info(1)
"""


def test_the_frozen_firmware_interns_no_module_name_and_no_letter_at_run_time(firmware, tmp_path):
    # MicroPython keeps every string it interns for good, in pools of 20, 40, 80 entries: a
    # module's dotted name (relative imports, `from pkg import sub`) unless the firmware holds it
    # (tools/manifest.py's _frozen_names), and each character of a str indexed or iterated
    (tmp_path / "config.py").write_text(
        'MQTT_HOST = "127.0.0.1"\nWATCHDOG_TIMEOUT = 30\nMQTT_KEEPALIVE = 60\n'
    )
    (tmp_path / "run.py").write_text(INTERNING_SCRIPT)
    done = subprocess.run(
        [str(firmware.micropython), "run.py"],
        env={"MICROPYPATH": ".frozen", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    before, after = done.stdout.split("\n--- run\n")
    added = [q for q in after.split("\n") if q.startswith("Q(") and q not in before]
    assert added == [], added
