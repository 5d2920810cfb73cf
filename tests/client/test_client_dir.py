"""dir(mqtt_as): the package's lazy __getattr__ must not break it. MicroPython's dir() asks the
module for every name it knows ("", "0", "__init__"...); each such name once went to an import
(of `mqtt_as.`, `mqtt_as./`, a second copy of the package as `mqtt_as.__init__`) until one
raised ImportError out of dir()."""

from __future__ import annotations

import subprocess

import pytest
from harness import REPO
from harness.runtimes import tool_modules

SUBMODULES = {p.stem for p in (REPO / "external_modules" / "mqtt_as").glob("*.py")} - {"__init__"}

PROBE = """\
import sys

import mqtt_as

names = dir(mqtt_as)
names = dir(mqtt_as) if "{again}" else names
print("public", " ".join(sorted(n for n in mqtt_as.__all__ if n in names)))
print("loaded", " ".join(sorted(m[8:] for m in sys.modules if m.startswith("mqtt_as."))))
unknown = []
for name in sys.argv[1:]:  # every submodule: `from mqtt_as import name` reaches it
    try:
        getattr(mqtt_as, name)
    except AttributeError as e:
        if str(e) == name:  # not in __getattr__'s list (a port's failure says why after name)
            unknown.append(name)
    except ImportError:  # CPython: a submodule of the other runtime
        pass
print("unknown", " ".join(unknown) or "none")
"""


def check(output: str) -> None:
    lines = dict(line.split(" ", 1) for line in output.splitlines() if " " in line)
    assert lines.get("public", "").split() == sorted(
        ("MQTTClient", "MQTTError", "MQTTRefused", "MQTTSubscribeError", "VERSION", "config")
    ), output
    assert set(lines.get("loaded", "").split()) <= SUBMODULES, output
    assert lines.get("unknown") == "none", output


def test_dir_of_the_package_lists_its_public_names_and_imports_nothing_else(
    runtime, run_py, tmp_path
):
    # From the sources (.py): MicroPython's dir() asks only for the names interned when it
    # starts, and MQTTSubscribeError is first interned by errors.py, which dir() itself loads:
    # the second call lists it (frozen, every name is in the firmware: the first does)
    script = tmp_path / "probe.py"
    script.write_text(PROBE.format(again="yes" if runtime == "micropython" else ""))
    proc = run_py(runtime, script, *sorted(SUBMODULES), cwd=tmp_path)
    assert proc.wait(timeout=60) == 0, proc.output()
    check(proc.output())


@pytest.mark.parametrize("runtime", ["micropython"])
def test_dir_of_the_frozen_package_lists_its_public_names_at_the_first_call(runtime, tmp_path):
    firmware = tool_modules().require_firmware()
    (tmp_path / "probe.py").write_text(PROBE.format(again=""))
    r = subprocess.run(
        # The firmware freezes the device modules only: no cpython.py
        [str(firmware.micropython), "probe.py", *sorted(SUBMODULES - {"cpython"})],
        cwd=tmp_path, env={"MICROPYPATH": ".frozen"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    check(r.stdout)
