"""tools/deploy.py copies a build and the config to a board: here a pseudo-board, the unix port
built from source behind a pseudo-terminal (socat), driven by mpremote as a real board is."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from harness import micropython_path, require_tool
from tool_modules import load_tool

build = load_tool("build")
deploy = load_tool("deploy")


@pytest.fixture
def pseudo_board(firmware, tmp_path):
    """(tty path, the board's filesystem folder): the frozen unix port on a pseudo-terminal."""
    socat = require_tool("socat", "apt-get install socat")
    pytest.importorskip("mpremote", reason="pip install mpremote (the test extra has it)")
    folder = tmp_path / "board-fs"
    folder.mkdir()
    tty = tmp_path / "tty"
    proc = subprocess.Popen(
        [
            socat,
            "PTY,link=%s,raw,echo=0" % tty,
            "EXEC:%s,pty,stderr,setsid,ctty,raw,echo=0" % firmware.micropython,
        ],
        cwd=folder,
        env={"MICROPYPATH": ".frozen", "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not tty.exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "socat made no pseudo-terminal in 10 s"
            time.sleep(0.05)
        yield str(tty), folder
    finally:
        proc.send_signal(signal.SIGTERM)  # socat ends the unix port with it
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        proc.stderr.close()


@pytest.mark.slow
def test_deploy_lands_the_build_and_config_on_the_board_and_the_node_runs_from_there(
    pseudo_board, tmp_path, mosquitto, observer
):
    tty, board = pseudo_board
    mine = tmp_path / "my"
    mine.mkdir()
    (mine / "kitchen.py").write_text(
        'MQTT_HOST = "%s"\nMQTT_PORT = %d\nDEVICE_NAME = "deployed"\nRTC_SYNC_ACTIVE = False\n'
        % (mosquitto.host, mosquitto.port)
    )
    out = tmp_path / "build"
    build.build(out)
    (board / "pysmartnode").mkdir()  # a folder already on the board is no obstacle
    assert (
        deploy.main([str(out), "--port", tty, "--resume", "--config", str(mine / "kitchen.py")])
        == 0
    )

    landed = sorted(p.relative_to(board).as_posix() for p in board.rglob("*") if p.is_file())
    expected = sorted(rel for _, rel in deploy.plan(out)) + ["config.py"]
    assert landed == sorted(expected) and build.MARKER not in landed
    for rel in landed:
        if rel != "config.py":
            assert (board / rel).read_bytes() == (out / rel).read_bytes(), rel
    assert (board / "config.py").read_text() == (mine / "kitchen.py").read_text()

    # Run the node from what landed, with the stock unix port (no pysmartnode frozen in it)
    obs = observer(mosquitto)
    obs.subscribe("home/deployed/#")
    proc = subprocess.Popen(
        [micropython_path(), "main.py"],
        cwd=board,
        env={"MICROPYPATH": ".frozen", "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert obs.wait_message("home/deployed/available", b"online", timeout=20)
    finally:
        proc.kill()
        output = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert "Traceback" not in output, output


def test_deploy_refuses_a_folder_build_py_did_not_make(tmp_path, capsys):
    folder = tmp_path / "random"
    folder.mkdir()
    (folder / "main.py").write_text("")
    assert deploy.main([str(folder), "--port", "/dev/null"]) == 2
    assert "tools/build.py" in capsys.readouterr().err


def test_deploy_says_so_when_no_board_answers(tmp_path, capsys):
    pytest.importorskip("mpremote", reason="pip install mpremote (the test extra has it)")
    out = tmp_path / "build"
    build.build(out, source=True)
    assert deploy.main([str(out), "--port", str(tmp_path / "no-such-tty")]) == 2
    assert "cannot reach the board" in capsys.readouterr().err
