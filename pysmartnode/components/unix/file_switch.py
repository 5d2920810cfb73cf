"""A switch that writes a file: `on` or `off` text into `path`, checked by reading it back.

Safe on any Linux box with the default path under /tmp (watch it: `cat /tmp/pysmartnode-lamp`).
Pointed at sysfs it drives real things, e.g. a Raspberry Pi's green LED:
`path: /sys/class/leds/ACT/brightness`, on "1", off "0" (as root, with the LED's trigger "none").

Example config (hjson):
    lamp: {
        package: .unix.file_switch
        component: FileSwitch
        constructor_args: {
            path: "/tmp/pysmartnode-lamp"  # optional: default /tmp/pysmartnode-<name>
            on: "1"                        # optional: text written for on
            off: "0"                       # optional: text written for off
            restore: "restore"             # optional: "restore", "off" or "on" (ComponentSwitch)
            max_on_time: 3600              # optional, seconds: turns itself off (ComponentSwitch)
        }
    }
"""

from pysmartnode.utils.component import ComponentSwitch


class FileSwitch(ComponentSwitch):
    _texts = ("0", "1")  # off, on: the defaults, not a tuple per instance

    def __init__(self, name, path=None, on="1", off="0", **kwargs):
        ComponentSwitch.__init__(self, name, **kwargs)
        if not isinstance(on, str) or not isinstance(off, str) or on == off:
            raise ValueError("on and off must be two different texts, got %r, %r" % (on, off))
        self._path = path or "/tmp/pysmartnode-" + name
        if (off, on) != self._texts:
            self._texts = (off, on)

    async def _on(self):
        return self._write(1)

    async def _off(self):
        return self._write(0)

    def _write(self, index):
        with open(self._path, "w") as f:
            f.write(self._texts[index])
        with open(self._path) as f:  # sysfs may refuse a value without an error on write
            return f.read().strip() == self._texts[index]
