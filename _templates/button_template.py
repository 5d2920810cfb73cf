"""Button template: copy this file beside your components.py, rename the class, put your action
in _press().

It runs as it is: each press publishes "hello <n>" on `<home>/<device>/<name>/said`, so you
can see the press arrive (mosquitto_sub -t '<home>/#' -v).

Example config (hjson):
    greeter: {
        package: "button_template"    # this file's name, without .py
        component: MyButton
        constructor_args: {
            greeting: "hello"      # optional: the word it publishes
        }
    }
"""

from pysmartnode.utils.component import ComponentButton


class MyButton(ComponentButton):
    def __init__(self, name, greeting="hello", **kwargs):
        # kwargs: device_class ("restart", "update", "identify"), entity_category... -> the base
        super().__init__(name, **kwargs)
        self._greeting = greeting
        self._count = 0

    async def _press(self):
        # Runs once per PRESS from Home Assistant (a press while this runs is ignored).
        # Raising is logged; the button keeps working.
        self._count += 1
        await self._publish("./%s/said" % self.name, "%s %d" % (self._greeting, self._count))
