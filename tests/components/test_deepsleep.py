"""machine/deepsleep on Linux: no machine.deepsleep, so the component fails at build with a
clear message (on boards it sleeps: test_switches_node.py runs it on the fake machine)."""


def test_deep_sleep_is_refused_at_build_where_there_is_none(runtime, run_py, tmp_path):
    script = tmp_path / "no_sleep.py"
    script.write_text(
        "from pysmartnode.components.machine.deepsleep import DeepSleep\n"
        "try:\n    DeepSleep('sleep', sleep=60)\nexcept OSError as e:\n    print('error:', e)\n"
    )
    proc = run_py(runtime, script)  # no tests/fakes on the path: the port's own machine
    assert proc.wait(timeout=20) == 0, proc.output()
    platform = "cpython" if runtime == "cpython" else "unix"
    assert f"error: deep sleep is not supported here ({platform}): no " in proc.output()
