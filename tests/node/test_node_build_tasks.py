"""The tasks components start at the build are noted for the stop, which ends them while the
node's MQTT handle is still there; the node does not hold the ones that have finished."""

import signal

from harness import micropython_path


def test_the_node_holds_no_finished_build_task_and_its_stop_ends_the_live_one(
    runtime, mosquitto, start_node
):
    # 5 short tasks and a long one, started by components.py at the build. The list kept every
    # one of them, finished or not, with its coroutine, for the node's life
    if runtime == "micropython":
        micropython_path()
    node = start_node(runtime, mosquitto, components="short_tasks")
    node.proc.wait_line("short_tasks: held", timeout=20)
    node.proc.wait_line("short_tasks: held 1", timeout=15)  # the long one alone
    node.proc.send_signal(signal.SIGINT)
    node.proc.wait_line("short_tasks: the long task was cancelled, mqtt there", timeout=15)
    assert node.proc.wait_after_ctrl_c(timeout=15) == 0, node.proc.output()
