"""Disk space of a file system (os.statvfs): percent in use and GiB free.

"Free" is what an ordinary user can still write (f_bavail), as `df` shows it.

Example config (hjson):
    disk_root: {
        package: .unix.disk
        component: Disk
        constructor_args: {
            path: "/"              # optional: any path on the file system to watch
            interval_reading: 300  # optional, seconds (ComponentSensor)
        }
    }
"""

import os

from pysmartnode.utils.component import ComponentSensor


class Disk(ComponentSensor):
    def __init__(self, name, path="/", **kwargs):
        ComponentSensor.__init__(self, name, **kwargs)
        os.statvfs(path)  # raises OSError now for a path that is not there
        self._path = path
        self._add_sensor_type("used", unit="%", precision=1, state_class="measurement",
                              name="Disk used")  # fmt: skip
        self._add_sensor_type("free", unit="GiB", precision=2, device_class="data_size",
                              name="Disk free")  # fmt: skip

    async def _read(self):
        # (f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, ...) on CPython and the unix port
        st = os.statvfs(self._path)
        frsize, blocks, bfree, bavail = st[1], st[2], st[3], st[4]
        used = blocks - bfree
        # percent as df computes it: used / (used + available to users)
        self._set_value("used", 100 * used / (used + bavail) if used + bavail else 0)
        self._set_value("free", bavail * frsize / 1073741824)
