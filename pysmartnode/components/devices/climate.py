"""A climate controller: heats and/or cools with hysteresis, from a temperature sensor of the
node and one or two switches of the node, shown in Home Assistant as a `climate` entity.

Modes `off`, `heat` (with `heater`), `cool` (with `cooler`). In `heat` the heater goes on below
`target - hysteresis` and off above `target + hysteresis` (in between it stays as it is);
`cool` mirrors it. The mode (`./<name>/mode/set`) and the target in °C (`./<name>/target/set`)
are echoed retained on `./<name>/mode` and `./<name>/target` and restored at the next start.
The current temperature goes to `./<name>/current`, the action (`off`, `idle`, `heating`,
`cooling`) to `./<name>/action`. Fail-safe: while the sensor has no reading younger than
`stale` seconds (or its on-demand reading fails), both outputs are off (logged once per
streak).

Example config (hjson):
    greenhouse_air: {
        package: .sensors.bme280
        component: BME280
        constructor_args: {
            sda: 21                   # GPIO of the data line
            scl: 22                   # GPIO of the clock line
        }
    }
    greenhouse_heater: {
        package: .switches.gpio
        component: GPIO
        constructor_args: {
            pin: 5                    # GPIO of the heater's relay
            restore: "off"            # optional: the controller decides, not the last state
        }
    }
    greenhouse_climate: {
        package: .devices.climate
        component: Climate
        constructor_args: {
            sensor: {ref: "greenhouse_air"}     # a sensor of the node giving °C
            sensor_type: "temperature"          # optional: its type, default its only one
            heater: {ref: "greenhouse_heater"}  # optional: a switch that heats (mode heat)
            # cooler: {ref: "fan"}              # optional: a switch that cools (mode cool)
            target: 21                # optional, °C: default 21 (until one is set over MQTT)
            hysteresis: 0.5           # optional, °C either side of the target, default 0.5
            mode: "heat"              # optional: the mode until one is set, default "off"
            min_temp: 5               # optional, °C: the lowest target accepted, default 5
            max_temp: 35              # optional, °C: the highest target accepted, default 35
            interval: 10              # optional, seconds between control steps, default 10
            stale: 300                # optional, seconds: an older reading turns outputs off
        }
    }
"""

import asyncio

from pysmartnode.platform import ticks_diff, ticks_ms
from pysmartnode.utils.component import ComponentBase


class Climate(ComponentBase):
    def __init__(self, name, sensor, sensor_type=None, heater=None, cooler=None, target=21,
                 hysteresis=0.5, mode="off", min_temp=5, max_temp=35, interval=10, stale=300,
                 **kwargs):  # fmt: skip
        super().__init__(name, **kwargs)
        if not hasattr(sensor, "getValue"):
            raise ValueError('sensor must be a sensor: {"ref": "<its config key>"}')
        sensor_type = sensor_type or _only_type(sensor)
        sensor.getTopic(sensor_type)  # ValueError if the sensor has no such type
        for key, switch in (("heater", heater), ("cooler", cooler)):
            if switch is not None and not hasattr(switch, "on"):
                raise ValueError('%s must be a switch: {"ref": "<its config key>"}' % key)
        if heater is None and cooler is None:
            raise ValueError('give a heater and/or a cooler: {"ref": "<a switch>"}')
        if not (_number(min_temp) and _number(max_temp) and min_temp < max_temp):
            raise ValueError("min_temp must be a number below max_temp")
        if not (_number(hysteresis) and hysteresis >= 0):
            raise ValueError("hysteresis must be a number >= 0, got %r" % (hysteresis,))
        if not (_number(interval) and interval > 0 and _number(stale) and stale > 0):
            raise ValueError("interval and stale must be seconds > 0")
        self._modes = ["off"]
        if heater is not None:
            self._modes.append("heat")
        if cooler is not None:
            self._modes.append("cool")
        if mode not in self._modes:
            raise ValueError("mode must be one of %s, got %r" % (self._modes, mode))
        self._sensor, self._type = sensor, sensor_type
        self._heater, self._cooler = heater, cooler
        self._limits = (min_temp, max_temp)
        self._target = self._check_target(target)
        self._hysteresis, self._interval, self._stale = hysteresis, interval, stale
        self._mode = mode
        self._current = None
        self._action = None
        self._failing = False
        self._wake = asyncio.Event()

    def _check_target(self, value):
        value = float(value)
        low, high = self._limits
        if not low <= value <= high:  # also false for nan
            raise ValueError("target %s is outside %s..%s" % (value, low, high))
        return value

    @property
    def mode(self):
        return self._mode

    @property
    def target(self):
        return self._target

    @property
    def action(self):
        return self._action

    def _start(self):
        self._subscribe(self._topic + "/mode/set", self._on_mode, restore_state=True)
        self._subscribe(self._topic + "/target/set", self._on_target, restore_state=True)
        self._spawn(self._control)

    def _on_mode(self, topic, msg, retained):
        if msg not in self._modes:
            self._log.warning("ignored mode (want one of %s)", ", ".join(self._modes))
            return None
        self._mode = msg
        self._wake.set()
        return True

    def _on_target(self, topic, msg, retained):
        try:
            self._target = self._check_target(msg)
        except ValueError as e:  # float() of garbage, or out of range
            self._log.warning("ignored target: %s", str(e)[:60])
            return None
        self._wake.set()
        return "%.1f" % self._target

    async def _control(self):
        while True:
            await self.step()
            try:
                await asyncio.wait_for(self._wake.wait(), self._interval)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def step(self):
        """One control step: reads the sensor, switches the outputs, publishes what changed."""
        sensor, stale = self._sensor, self._stale
        on_demand = sensor.intervals[0] == -1
        if on_demand:  # it reads in getValue: the event tells whether that reading worked
            sensor.getReadingsEvent().clear()
        value = await sensor.getValue(self._type, max_age=stale)
        stamp = sensor.getTimestamp(self._type)
        if on_demand and not sensor.getReadingsEvent().is_set():
            value = None
        if value is None or stamp is None or ticks_diff(ticks_ms(), stamp) > stale * 1000:
            if not self._failing:
                self._log.error("no reading of %s for %s s: outputs off", sensor.name, stale)
                self._failing = True
            value = None
        elif self._failing:
            self._log.info("%s reads again", sensor.name)
            self._failing = False
        heat = cool = False
        if value is not None and self._mode != "off":
            low, high = self._target - self._hysteresis, self._target + self._hysteresis
            if self._mode == "heat":
                heat = value < low or (value <= high and self._heater.state() is True)
            else:
                cool = value > high or (value >= low and self._cooler.state() is True)
        await self._set(self._heater, heat)
        await self._set(self._cooler, cool)
        if self._mode == "off" or value is None:
            action = "off"
        else:
            action = "heating" if heat else "cooling" if cool else "idle"
        if value != self._current and value is not None:
            self._current = value
            await self._publish(self._topic + "/current", "%.2f" % value, retain=True)
        if action != self._action:
            self._action = action
            await self._publish(self._topic + "/action", action, retain=True)

    async def _set(self, switch, on):
        if switch is None or switch.state() is on:
            return
        if not await (switch.on() if on else switch.off()):
            raise OSError("%s did not switch %s" % (switch.name, "on" if on else "off"))

    def stop(self):
        super().stop()
        for switch in (self._heater, self._cooler):
            if switch is not None and switch.state():
                try:  # a stopped controller leaves nothing on
                    asyncio.create_task(switch.off())
                except RuntimeError:  # CPython with no loop running: nothing to switch with
                    pass

    def discovery_entities(self):
        t = self._topic
        fields = {"name": self._entity_name(), "modes": self._modes, "temp_unit": "C",
                  "mode_cmd_t": t + "/mode/set", "mode_stat_t": t + "/mode",
                  "temp_cmd_t": t + "/target/set", "temp_stat_t": t + "/target",
                  "curr_temp_t": t + "/current", "act_t": t + "/action",
                  "min_temp": self._limits[0], "max_temp": self._limits[1], "temp_step": 0.5,
                  "precision": 0.1}  # fmt: skip
        return [(self.name, "climate", fields)]

    async def _publish_state(self):
        await self._publish(self._topic + "/mode", self._mode, retain=True)
        await self._publish(self._topic + "/target", "%.1f" % self._target, retain=True)
        if self._current is not None:
            await self._publish(self._topic + "/current", "%.2f" % self._current, retain=True)
        if self._action is not None:
            await self._publish(self._topic + "/action", self._action, retain=True)


def _only_type(sensor):
    types = sensor.sensor_types
    if len(types) != 1:
        raise ValueError("sensor_type: the sensor has %s" % ", ".join(types))
    return types[0]


def _number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)
