"""unix/command (sensor), unix/command_switch and unix/file_value on both runtimes, without a
broker: tests/unix/apps/command_check.py prints what it saw. Commands run without blocking the
loop: an asyncio subprocess on CPython, a background shell polled for its status file on the
unix port."""

from __future__ import annotations

import pytest
from harness import REPO
from harness.runtimes import app_checks

APP = REPO / "tests" / "unix" / "apps" / "command_check.py"


@pytest.fixture(scope="module")
def checks_by_runtime():
    return {}


@pytest.fixture
def checks(runtime, run_py, checks_by_runtime, tmp_path) -> dict:
    return app_checks(checks_by_runtime, runtime, run_py, APP, str(tmp_path), timeout=30)[0]


def test_a_command_gives_its_exit_status_and_output_with_stderr(checks):
    assert checks["output"] == [0, "5\noops\n"]
    assert checks["exit"] == [3, ""]
    assert checks["not_utf8"][1] in ("a\ufffd", "a?")  # replaced, never a crash


def test_a_command_past_its_timeout_is_killed_and_the_loop_runs_meanwhile(checks):
    assert checks["timeout"] == ["OSError", "timed out after 0.5 s (killed)"]
    assert checks["loop_ran_meanwhile"] is True
    assert checks["timeout_ends_what_it_started"] is True  # a background child too


def test_command_sensor_takes_the_first_word_scaled_and_refuses_garbage(checks):
    assert checks["sensor"] == ["ok", 43.0]
    assert checks["sensor_garbage"] == ["ValueError", "printed 'nonsense', not a number"]
    assert checks["sensor_exit"] == ["OSError", "exit status 7: "]


def test_command_switch_switches_on_exit_0_and_keeps_its_state_otherwise(checks):
    assert checks["switch_on"] == [True, True, True]
    assert checks["switch_off"] == [True, False, False]
    assert checks["switch_off_fails"] == [False, False]


def test_the_command_module_is_not_held_between_commands(checks):
    assert checks["command_run_dropped"] == [False, False]  # neither in sys.modules nor bound


def test_file_value_reads_the_first_word_scaled_and_refuses_garbage(checks):
    assert checks["file_value"] == [
        ["ok", 42.0],
        ["ok", -0.0015],
        ["ValueError", None],
        ["ValueError", None],
    ]
