"""Binary sensor template: copy this file beside your components.py, rename the class, read
your input in _read() (or call self._set_state(value) from a pin interrupt's task).

It runs as it is: ON while the file `path` exists (`touch` it and watch Home Assistant), the
way a door contact would be read from a pin.

Example config (hjson):
    front_door: {
        package: "binary_sensor_template"  # this file's name, without .py
        component: MyBinarySensor
        constructor_args: {
            path: "front_door_open"       # optional: the file that means ON
            device_class: "door"          # optional: a binary_sensor class (door, motion...)
            interval_reading: 1           # optional, seconds between polls
        }
    }
"""

import os

from pysmartnode.utils.component import ComponentBinarySensor


class MyBinarySensor(ComponentBinarySensor):
    def __init__(self, name, path=None, interval_reading=1, **kwargs):
        # kwargs: device_class, entity_category, friendly_name... -> the base
        super().__init__(name, interval_reading=interval_reading, **kwargs)
        # Real hardware, e.g.: from pysmartnode.platform import pin; self._pin = pin(4, "in")
        self._path = path or name + "_on"

    async def _read(self):
        # Polled every interval_reading seconds: report True or False; the base publishes
        # ON/OFF (retained) only when it changes.
        try:
            os.stat(self._path)
            self._set_state(True)
        except OSError:
            self._set_state(False)
