"""A sensor that runs a shell command and publishes the number it prints.

The first word of the output is the value (`42`, `3.7 V` -> 3.7), times `scale`. The command
runs without blocking the node (components/unix/command_run.py): a command that runs longer than
`timeout` is killed, and that, a non-zero exit or output that is no number, is a failed
reading (logged once per failure streak, nothing published). Commands come from the config only.

Example config (hjson):
    cpus: {
        package: .unix.command
        component: CommandSensor
        constructor_args: {
            command: "nproc"       # run by sh -c; prints a number (first word)
            timeout: 10            # optional, seconds before it is killed
            scale: 1               # optional: the value printed is multiplied by it
            device_class: null     # optional: an HA sensor device class ("temperature", ...)
            unit: null             # optional: the unit (default: the device class's)
            interval_reading: 60   # optional, seconds (ComponentSensor)
        }
    }
"""

from pysmartnode.utils.component import ComponentSensor


class CommandSensor(ComponentSensor):
    def __init__(self, name, command, timeout=10, scale=1, device_class=None, unit=None,
                 **kwargs):  # fmt: skip
        ComponentSensor.__init__(self, name, **kwargs)
        if not isinstance(command, str) or not command.strip():
            raise ValueError("command must be a shell command line, got %r" % (command,))
        for key, value in (("timeout", timeout), ("scale", scale)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError("%s must be a number > 0, got %r" % (key, value))
        self._command = command
        self._timeout = timeout
        self._scale = scale
        from pysmartnode.components.unix.command_run import scratch_path

        self._scratch = scratch_path(name)
        self._type = device_class or "value"
        self._add_sensor_type(self._type, unit=unit, device_class=device_class or "",
                              state_class="measurement")  # fmt: skip

    async def _read(self):
        from pysmartnode.components.unix.command_run import run

        code, out = await run(self._command, self._timeout, self._scratch)
        if code != 0:
            raise OSError("exit status %d: %.60s" % (code, out.strip()))
        words = out.split()
        try:
            value = float(words[0])
        except (IndexError, ValueError):
            raise ValueError("printed %.40r, not a number" % out.strip()) from None
        self._set_value(self._type, value * self._scale)
