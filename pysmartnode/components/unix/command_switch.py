"""A switch that runs one shell command to turn on and another to turn off.

It has switched when its command exits with 0; a non-zero exit or a command that runs longer
than `timeout` (it is killed) leaves the state as it was and is logged. The commands run
without blocking the node (components/unix/command_run.py) and come from the config only.

Example config (hjson):
    fan: {
        package: .unix.command_switch
        component: CommandSwitch
        constructor_args: {
            on: "touch /tmp/pysmartnode-fan"   # run by sh -c to turn on
            off: "rm -f /tmp/pysmartnode-fan"  # run by sh -c to turn off
            timeout: 10            # optional, seconds before a command is killed
            restore: "restore"     # optional: "restore", "off" or "on" (ComponentSwitch)
            max_on_time: 3600      # optional, seconds: turns itself off (ComponentSwitch)
        }
    }
"""

from pysmartnode.utils.component import ComponentSwitch


class CommandSwitch(ComponentSwitch):
    def __init__(self, name, on, off, timeout=10, **kwargs):
        ComponentSwitch.__init__(self, name, **kwargs)
        for key, value in (("on", on), ("off", off)):
            if not isinstance(value, str) or not value.strip():
                raise ValueError("%s must be a shell command line, got %r" % (key, value))
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError("timeout must be seconds > 0, got %r" % (timeout,))
        self._commands = (off, on)
        self._timeout = timeout
        from pysmartnode.components.unix.command_run import scratch_path

        self._scratch = scratch_path(name)

    async def _on(self):
        return await self._run(1)

    async def _off(self):
        return await self._run(0)

    async def _run(self, index):
        from pysmartnode.components.unix.command_run import run

        code, out = await run(self._commands[index], self._timeout, self._scratch)
        if code != 0:
            raise OSError("exit status %d: %.60s" % (code, out.strip()))
        return True
