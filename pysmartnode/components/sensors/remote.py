"""Another node's sensor as a local one: its MQTT topic becomes this node's reading (a
controller here can then use a thermometer there), with a stale timeout.

The payload is a number, or JSON with the value under `key` (`{"temperature": 21.5}`). A
payload that is no finite number is logged and ignored. After `stale` seconds without a good
message the sensor has no value: nothing is published (Home Assistant shows it unavailable once
its expire_after runs out) and `getValue` gives None.

Example config (hjson):
    outside_temp: {
        package: .sensors.remote
        component: RemoteSensor
        constructor_args: {
            topic: "home/garden/climate"  # the other node's state topic (full topic)
            key: "temperature"            # optional: the JSON key; default: the bare payload
            sensor_type: "temperature"    # optional: a device class gives the unit, default "value"
            unit: "°C"                    # optional: default the device class's unit
            stale: 300                    # optional, seconds without a message, default 600
            interval_reading: 30          # optional, seconds (ComponentSensor)
        }
    }
"""

import json

from pysmartnode.platform import ticks_diff, ticks_ms
from pysmartnode.utils.component import ComponentSensor


class RemoteSensor(ComponentSensor):
    def __init__(self, name, topic, key=None, sensor_type="value", unit=None, stale=600, **kwargs):
        super().__init__(name, **kwargs)
        if not isinstance(topic, str) or not topic or "+" in topic or "#" in topic:
            raise ValueError("topic must be one full topic (no wildcards), got %r" % (topic,))
        if isinstance(stale, bool) or not isinstance(stale, (int, float)) or stale <= 0:
            raise ValueError("stale must be seconds > 0, got %r" % (stale,))
        self._remote = topic
        self._key = key
        self._type = sensor_type
        self._stale = stale
        self._value = None
        self._received = None  # ticks_ms of the last good message
        self._add_sensor_type(sensor_type, unit=unit)

    def _start(self):
        self._subscribe(self._remote, self._on_message)
        super()._start()

    def _on_message(self, topic, msg, retained):
        value = msg
        if self._key is not None:
            value = json.loads(msg)
            if not isinstance(value, dict) or self._key not in value:
                raise ValueError("no key %r in the message on %s" % (self._key, topic))
            value = value[self._key]
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError("not a number on %s: %s" % (topic, type(value).__name__))
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number on %s: %s" % (topic, value))
        self._value, self._received = value, ticks_ms()

    def _fresh_value(self):
        if self._received is None or ticks_diff(ticks_ms(), self._received) > self._stale * 1000:
            return None
        return self._value

    async def getValue(self, sensor_type=None, publish=False, timeout=None, max_age=None):
        if self._fresh_value() is None:
            return None
        return await super().getValue(sensor_type or self._type, publish, timeout, max_age)

    async def _read(self):
        value = self._fresh_value()
        if value is None:
            raise OSError("stale: no message on %s for %s s" % (self._remote, self._stale))
        self._set_value(self._type, value)
