"""`pip install .` gives the `smartserver` command, working outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO


def _env_site_packages() -> list[str]:
    """The test environment's site-packages folders (the venv test.sh made)."""
    import site

    return [p for p in site.getsitepackages() if Path(p).is_dir()]


@pytest.mark.xdist_group("pip-build")  # pip builds the checkout in it (build/, *.egg-info)
@pytest.mark.slow
def test_pip_install_provides_the_smartserver_command(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # The test environment's own site packages give paho-mqtt and hjson without a download
    # (a .pth line each; --system-site-packages would give the base interpreter's, which on a
    # fresh machine has neither)
    (site,) = (venv / "lib").glob("python*/site-packages")
    (site / "test_env.pth").write_text("".join(p + "\n" for p in _env_site_packages()))
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "node1.hjson").write_text(
        "{\n  status: {\n    package: .machine.status\n    component: Status\n  }\n}\n"
    )
    smartserver = str(venv / "bin" / "smartserver")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the installed code only
    version = subprocess.run(
        [smartserver, "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env=env,
    )
    assert version.returncode == 0 and version.stdout.startswith("smartserver "), version.stderr
    check = subprocess.run(
        [smartserver, "check", "-c", str(folder)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env=env,
    )
    assert check.returncode == 1
    assert f"{folder / 'node1.hjson'}:2: error: status: constructor argument 'mqtt' is missing" in (
        check.stdout
    )
