# Runs pysmartnode/components/unix/command_run.py, the command sensor and switch and the file
# sensor on this runtime while a ticker task counts loop turns; prints one JSON line per check
import asyncio
import json
import sys

from pysmartnode.components.unix import command_run
from pysmartnode.components.unix.command import CommandSensor
from pysmartnode.components.unix.command_switch import CommandSwitch
from pysmartnode.components.unix.file_value import FileValue

TMP = sys.argv[1]


def report(check, got):
    print(json.dumps({"check": check, "got": got}))


async def ticker(box):
    while True:
        await asyncio.sleep(0.01)
        box[0] += 1


async def outcome(coro):
    try:
        return ["ok", await coro]
    except Exception as e:
        return [type(e).__name__, str(e)]


async def main():
    box = [0]
    task = asyncio.create_task(ticker(box))
    scratch = command_run.scratch_path("check")
    report("output", list(await command_run.run("echo 5; echo oops >&2", 5, scratch)))
    report("exit", list(await command_run.run("exit 3", 5, scratch)))
    report("not_utf8", list(await command_run.run("printf 'a\\377'", 5, scratch)))
    box[0] = 0
    report("timeout", await outcome(command_run.run("sleep 5", 0.5, scratch)))
    report("loop_ran_meanwhile", box[0] >= 10)
    pid_file = TMP + "/pid"
    await outcome(command_run.run("sleep 30 & echo $! > %s; wait" % pid_file, 0.5, scratch))
    with open(pid_file) as f:
        pid = f.read().strip()
    report("timeout_ends_what_it_started", await _ended(pid))

    sensor = CommandSensor("cmd", command="echo 21.5 units", scale=2)
    report("sensor", await outcome(sensor.getValue("value", max_age=0)))
    sensor._command = "echo nonsense"
    report("sensor_garbage", await outcome(sensor._read()))
    sensor._command = "exit 7"
    report("sensor_exit", await outcome(sensor._read()))

    flag = TMP + "/flag"
    switch = CommandSwitch("sw", on="touch " + flag, off="rm " + flag)
    report("switch_on", [await switch.on(), switch.state(), _exists(flag)])
    report("switch_off", [await switch.off(), switch.state(), _exists(flag)])
    report("switch_off_fails", [await switch.off(), switch.state()])  # rm of nothing: exit 1
    # the sensor and the switch import command_run for each call: it leaves sys.modules in it
    package = sys.modules["pysmartnode.components.unix"]
    held = "pysmartnode.components.unix.command_run" in sys.modules
    report("command_run_dropped", [held, hasattr(package, "command_run")])

    path = TMP + "/value"
    values = []
    for text in ("42000\n", "-1.5 V", "", "abc"):
        with open(path, "w") as f:
            f.write(text)
        fv = FileValue("fv", path=path, scale=0.001)
        read = await outcome(fv._read())
        values.append([read[0], await fv.getValue("value")])
    report("file_value", values)
    task.cancel()


async def _ended(pid):
    for _ in range(60):  # up to 3 s for the kill to land
        try:
            with open("/proc/%s/stat" % pid) as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True  # killed, not yet reaped
        except OSError:
            return True
        await asyncio.sleep(0.05)
    return False


def _exists(path):
    try:
        open(path).close()
        return True
    except OSError:
        return False


asyncio.run(main())
