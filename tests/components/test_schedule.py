"""The one scheduler task that runs every sensor's readings and publications (sensor_base.py),
on both runtimes, without a broker: tests/components/apps/schedule_check.py prints what it saw."""

from __future__ import annotations

import pytest
from harness import REPO
from harness.runtimes import app_checks

APP = REPO / "tests" / "components" / "apps" / "schedule_check.py"


@pytest.fixture(scope="module")
def checks_by_runtime():
    return {}


@pytest.fixture
def checks(runtime, run_py, checks_by_runtime) -> dict:
    return app_checks(checks_by_runtime, runtime, run_py, APP, timeout=60)[0]


def test_a_slow_sensor_does_not_delay_another_sensors_interval(checks):
    fast_kept_reading, slow_reads_while_stuck, slow_caught_up = checks["slow_does_not_delay_fast"]
    assert fast_kept_reading and slow_reads_while_stuck == 1
    assert slow_caught_up


def test_a_reading_longer_than_the_interval_is_followed_by_the_next_at_once(checks):
    assert checks["overrun_catches_up"] is True


def test_a_crashing_sensor_is_logged_retried_with_backoff_and_the_others_run(checks):
    retried, tries, others_ran, backoffs = checks["crash"]
    assert retried and tries == 2 and others_ran
    assert backoffs == ["1 s", "2 s"]


def test_new_intervals_take_effect_at_once_not_after_the_old_one(checks):
    assert checks["new_intervals"] == [True, True]


def test_a_stopped_sensor_reads_no_more_and_the_last_one_ends_the_task(checks):
    assert checks["stop"] == [True, True, True, True, []]


def test_sensors_joining_and_a_new_interval_keep_one_scheduler_task(checks):
    # read once each, the woken scheduler reads on the new interval, one task, ended by the stop
    assert checks["one_task"] == [True, True, True, True, True]


def test_sensors_falling_due_together_start_their_runs_one_loop_turn_apart(checks):
    # five readings that do not wait: one run in flight at each, not five at once
    assert checks["one_run_per_turn"] == [True, [1, 1, 1, 1, 1]]


def test_an_on_demand_sensor_starts_no_task_and_reads_when_asked(checks):
    assert checks["on_demand"] == [True, 1]


def test_all_sensors_share_one_pair_of_interval_subscriptions(checks):
    filters, intervals, left = checks["interval_subscriptions"]
    assert filters == ["home/dev/+/interval", "home/dev/+/interval/set"]
    # b commanded, a restored from its retained state, c's live state message ignored
    assert intervals == [[7, 7], [5, 10], [-1, -1]]
    assert left == 0  # the last sensor to stop took the pair with it
