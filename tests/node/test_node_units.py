"""Device code without a broker (logging queue, summer time, PEM), the same on both runtimes."""

import subprocess
from pathlib import Path

import pytest
from harness import RUNTIMES, command, environment, micropython_path

APP = Path(__file__).parent / "apps" / "unit_check.py"


@pytest.fixture(scope="module", params=RUNTIMES, ids=RUNTIMES)
def checks(request):
    """The app's check results on one runtime (it runs once per module and runtime)."""
    if request.param == "micropython":
        micropython_path()
    done = subprocess.run(
        command(request.param, APP),
        env=environment(request.param),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0 and "unit checks done" in done.stdout, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    return {line.split()[1]: line.split()[2] for line in lines if line.startswith("check ")}


@pytest.mark.parametrize(
    "name",
    [
        "log_queue_bounded",
        "log_oldest_dropped",
        "log_drops_counted",
        "log_debug_off",
        "log_bad_format_survives",
        "log_level_name",
        "log_local_only_not_queued",
        "log_set_level",
        "log_logger_level",
        "log_tap",
        "log_sink_order",
        "log_sink_topic",
    ],  # fmt: skip
)
def test_logging_is_bounded_ordered_and_never_raises(checks, name):
    assert checks[name] == "ok"


def test_status_reports_on_a_live_request_or_a_connect_not_on_a_stale_one(checks):
    assert checks["status_wakes"] == "ok"


def test_the_handles_rarely_used_methods_answer_as_methods_and_leave_no_module_loaded(checks):
    assert checks["handle_rare_methods"] == "ok"


def test_the_handles_start_up_calls_load_no_module(checks):
    assert checks["handle_start_up_loads_nothing"] == "ok"


def test_a_module_used_once_leaves_sys_modules_as_it_found_it_its_package_too(checks):
    assert checks["use_once_as_found"] == "ok"


def test_the_watchdogs_shell_feed_takes_a_moment_without_heap_as_a_period_not_written(checks):
    assert checks["watcher_feed_no_heap"] == "ok"


@pytest.mark.parametrize(
    "name",
    ["weekday", "dst_before", "dst_start", "dst_summer", "dst_end", "dst_last_hour", "dst_winter"],
)
def test_summer_time_follows_the_eu_rule(checks, name):
    assert checks[name] == "ok"


def test_pem_certificate_converts_to_der(checks):
    assert checks["pem_to_der"] == "ok"
