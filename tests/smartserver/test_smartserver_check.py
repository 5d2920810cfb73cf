"""`smartserver check`: every problem of every file, with file:line, and the exit status."""

from __future__ import annotations

import re

import pytest
from smartserver_helpers import ALLOW, GOOD, run_cli

BAD = """{
  temp: {
    package: serverparts.parts
    component: Thermo
    constructor_args: {
      pin: 4
      colour: red
    }
  }
  relay: {
    package: serverparts.parts
    component: Relay
    constructor_args: {}
  }
  evil: { package: "os", component: "system", constructor_args: { command: "rm -rf /" } }
  ghost: { package: "serverparts.nothing", component: "X" }
  typo: { package: "serverparts.parts", component: "Thermometer", constructor_args: { pin: 1 } }
  a: { package: "serverparts.parts", component: "Relay", constructor_args: { pin: 1, sensor: { ref: "b" } } }
  b: { package: "serverparts.parts", component: "Relay", constructor_args: { pin: 2, sensor: { ref: "a" } } }
  c: { package: "serverparts.parts", component: "Relay", constructor_args: { pin: 3, sensor: { ref: "nope" } } }
  Temp: { package: "serverparts.parts", component: "Thermo", constructor_args: { pin: 5 }, extra: 1 }
  hygro: { package: "serverparts.parts", component: "Hygro", constructor_args: { pin: 6, interval_publish: 30, colour: 1 } }
}
"""

SYNTAX = """{
  temp: {
    package: serverparts.parts
    component: [
  }
"""


def _check(folder, *args):
    done = run_cli("check", "-c", str(folder), "--allow-package", ALLOW, *args)
    return done.returncode, done.stdout.splitlines(), done.stderr


@pytest.fixture
def folder(tmp_path):
    f = tmp_path / "configs"
    f.mkdir()
    return f


def test_check_reports_every_error_of_every_file_with_file_and_line(folder):
    (folder / "good.hjson").write_text(GOOD)
    (folder / "bad.hjson").write_text(BAD)
    (folder / "syntax.hjson").write_text(SYNTAX)
    (folder / "dup.hjson").write_text(GOOD.replace("  fan: {", "  living_temp: {"))
    rc, lines, summary = _check(folder)
    assert rc == 1
    bad = str(folder / "bad.hjson")
    expected = [
        (
            7,
            "temp: constructor argument 'colour' is not accepted by Thermo(name, pin, interval=60)",
        ),
        (10, "relay: constructor argument 'pin' is missing"),
        (15, "evil: package 'os' is outside the allow-list (serverparts.): a node refuses it"),
        (16, "ghost: unknown package 'serverparts.nothing'"),
        (17, "typo: serverparts.parts has no class or function 'Thermometer'"),
        (18, "cyclic reference: a -> b -> a"),
        (20, "c: refers to 'nope', which is not a component of this device"),
        (21, "keys 'temp' and 'Temp' give the same entity id"),
        (21, "Temp: unknown key 'extra' (allowed: package, component, constructor_args)"),
        (
            22,
            "hygro: constructor argument 'colour' is not accepted by Hygro(name, pin, **kwargs)"
            " and its base classes (friendly_name, interval_publish)",
        ),
    ]
    for line, message in expected:
        assert any(x.startswith(f"{bad}:{line}: error: {message}") for x in lines), (message, lines)
    assert f"{folder / 'syntax.hjson'}:5: error: hjson syntax:" in "\n".join(lines)
    assert any(
        x.startswith(f"{folder / 'dup.hjson'}:") and "duplicate key 'living_temp'" in x
        for x in lines
    )
    assert not any(str(folder / "good.hjson") in x for x in lines)
    assert re.search(r"4 device\(s\) checked: 13 error\(s\)", summary), summary


def test_check_passes_a_valid_folder_and_maps_readable_names(folder):
    (folder / "living.hjson").write_text(GOOD)
    (folder / "devices.hjson").write_text("{\n  living: a4cf12f00d\n}\n")
    rc, lines, summary = _check(folder)
    assert (rc, lines) == (0, [])
    assert "1 device(s) checked: 0 error(s), 0 warning(s)" in summary


def test_check_warns_but_passes_a_component_that_only_imports_on_a_board(folder):
    (folder / "n.hjson").write_text(
        '{\n  led: { package: "serverparts.boardonly", component: "Led", constructor_args: { pin: 2 } }\n}\n'
    )
    rc, lines, _ = _check(folder)
    assert rc == 0
    assert lines == [
        f"{folder / 'n.hjson'}:2: warning: led: serverparts.boardonly does not import on this host"
        " (ModuleNotFoundError: No module named 'machine'); its arguments are not checked"
    ]


def test_check_refuses_packages_outside_the_default_allow_list(folder):
    (folder / "n.hjson").write_text(GOOD)
    done = run_cli("check", "-c", str(folder))
    assert done.returncode == 1
    assert "package 'serverparts.parts' is outside the allow-list (pysmartnode.components.)" in (
        done.stdout
    )
