"""`pip install .` gives CPython both packages: the framework and the client."""

from __future__ import annotations

import subprocess
import sys

import pytest
from harness import REPO


@pytest.mark.xdist_group("pip-build")  # pip builds the checkout in it (build/, *.egg-info)
@pytest.mark.slow
def test_pip_install_provides_pysmartnode_and_mqtt_as(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import mqtt_as, mqtt_as.link, pysmartnode.main; print(mqtt_as.VERSION)",
        ],
        cwd=tmp_path,  # not the repository: the installed packages must be found
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    # the installed client is the one in this tree, not an older copy
    source = (REPO / "external_modules" / "mqtt_as" / "__init__.py").read_text()
    line = next(x for x in source.splitlines() if x.startswith("VERSION = "))
    assert probe.stdout.strip() == line.split("=", 1)[1].strip()
