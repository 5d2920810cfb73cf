"""The base classes' own logic (filters, readings, switching), on both runtimes, without a
broker: tests/components/apps/unit_check.py prints what it saw."""

from __future__ import annotations

import pytest
from harness import REPO
from harness.runtimes import app_checks

APP = REPO / "tests" / "components" / "apps" / "unit_check.py"


@pytest.fixture(scope="module")
def checks_by_runtime():
    return {}


@pytest.fixture
def checks(runtime, run_py, checks_by_runtime) -> dict:
    return app_checks(checks_by_runtime, runtime, run_py, APP, timeout=30)[0]


def test_median_filter_takes_the_middle_of_the_window(checks):
    assert checks["median"] == [1, 3, 3, 5, 3]


def test_average_then_linear_then_offset_then_precision(checks):
    # averages 2, 3, 5, 7 -> *10+1 -> +0.5 -> 1 decimal
    assert checks["average_linear_offset"] == [21.5, 31.5, 51.5, 71.5]


def test_zero_and_false_are_readings_none_and_raise_are_failures(checks):
    assert checks["zero_false_none_raise"] == [
        [True, 0],
        [True, False],
        [False, False],
        [False, False],
    ]


def test_concurrent_getvalue_calls_share_one_reading(checks):
    assert checks["concurrent_getvalue_one_reading"] == [[7, 7, 7], 1]


def test_delta_filter_passes_only_values_that_moved_enough(checks):
    assert checks["delta"] == [True, False, True, False]


def test_bad_sensor_options_raise_valueerror_naming_the_option(checks):
    assert checks["bad_options"] == [
        "interval_publish",
        "interval_reading",
        "unknown",
        "filter",
        "filter",
        "precision",
    ]


def test_concurrent_commands_queue_in_order_without_deadlock(checks):
    results, calls, state = checks["concurrent_switching"]
    assert results == [True] * 7
    assert calls == ["on", "off", "on", "off", "on", "on", "off"]
    assert state is False


def test_a_name_with_a_space_is_refused(checks):
    assert checks["bad_name"] == "ValueError"


def test_a_cancelled_command_does_not_hold_up_the_ones_after_it(checks):
    done, calls, queue = checks["cancelled_turns"]
    assert done is True and calls == ["off"] and queue is None


def test_a_reading_cancelled_by_a_timeout_lets_the_waiting_caller_read(checks):
    assert checks["cancelled_reading"] == [None, 2, 2]


def test_sensors_and_switches_make_no_asyncio_lock(checks):
    assert checks["no_lock"] is True


def test_options_kept_as_class_defaults_are_per_instance(checks):
    still, base, switches, sensors, logs, tasks = checks["defaults"]
    assert still  # stopping one component left the other's task running
    assert base == [False, "Quiet one", True, None]
    assert switches == [5, None, "./lamp", "./fan"]
    assert sensors == [True, False, 1, None]
    assert logs == ["loud", True]
    assert tasks == [[], [], [], False]


def test_a_stopped_switch_drops_its_command_subscription_and_only_its_own(checks):
    started, after_one, after_both = checks["stop_unsubscribes"]
    # restore "restore" also asks for the retained state; "off" does not
    assert started == [["./lamp/set", True], ["./fan/set", False]]
    assert after_one == ["./fan/set"]
    assert after_both == []


def test_subscriptions_are_flat_and_a_switch_is_its_own_command_callback(checks):
    lists, lamps, bound, calls, left, fan_kept, at_the_end = checks["flat_subscriptions"]
    assert lists == []  # no list or tuple per subscription (64 B each)
    assert lamps == 1 and bound == []  # the switch itself, not a bound method
    assert calls == ["off", "on"]  # restore "off", then the command delivered to it
    assert left == ["home/dev/fan/set"] and fan_kept is True  # the lamp's items only went
    assert at_the_end == 0


def test_a_callback_may_change_the_subscriptions_during_a_delivery(checks):
    # the first message reaches both callbacks subscribed when it came; the second the new one
    assert checks["change_during_delivery"] == ["first 1", "second 1", "second 2", "late 2"]


def test_instances_keep_no_attribute_that_is_only_there_for_a_while(checks):
    sensor, defaults, switch, state = checks["lean_instances"]
    # Series' own two, and the sensor's schedule and types; no _busy, _in_read, _publishing,
    # _fresh (published), _mqtt, intervals (the defaults)
    assert sensor == ["_next_publish", "_next_read", "_types", "_values", "name", "reads"]
    assert defaults == [True, 120, 600]  # node.mqtt (none here), config's defaults
    assert switch == ["_state", "calls", "name"] and state is False  # no _queue


@pytest.mark.parametrize("runtime", ["micropython"])  # CPython's classes have no such tables
def test_base_class_tables_stay_below_a_growth_step_and_hold_no_closure(checks):
    assert checks["class_tables"] is not None, "the unit check reported no class tables"
    sizes, closures = checks["class_tables"]
    assert sizes[0] <= 12 and sizes[1] <= 12, sizes  # SensorBase, ComponentSensor
    assert sizes[2] <= 12 and sizes[3] <= 12, sizes  # the MQTT handle's registry, the handle
    # ComponentBase, ComponentSwitch: their rarely used methods are in base_api / switch_api
    assert sizes[4] <= 12 and sizes[5] <= 12, sizes
    assert closures == []  # the base by name, not super()


def test_rarely_used_methods_answer_as_methods_and_leave_no_module_loaded(checks):
    sensor_api, switch_api, has, changed, toggled, loaded, unimplemented = checks["rare_methods"]
    assert sensor_api == ["./rare", "{{ value }}", [120, 600], ["v"]]  # the default intervals
    assert switch_api == ["./rare_sw", None, True]
    assert has == [False, False, True]  # each class answers only its own names
    assert changed == [True, [30, 60]]
    assert toggled == [True, True, True, True, False]
    assert loaded == []  # sensor_setup and switch_api dropped after every call
    errors, loaded = unimplemented
    assert errors == [False, None]  # no _on: not switched; no _read: no value (both logged)
    assert loaded == []


def test_a_types_entity_category_and_value_filters_are_its_own(checks):
    fields, values = checks["category_filters"]
    assert fields == [
        ["diag_a", "A one", "diagnostic"],
        ["diag_b", "Diag b", "diagnostic"],
        ["diag_c", "Diag c", None],
    ]
    assert values == [6, 3, 3]  # only type a has the linear filter
