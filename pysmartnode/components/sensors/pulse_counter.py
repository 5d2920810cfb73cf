"""A pulse counter on a GPIO interrupt: a water flow meter (YF-S201: 450 pulses per litre), a
gas or electricity meter's pulse output, a rain gauge's tipping bucket.

Publishes the volume since start (`water`, litres, total_increasing: Home Assistant's statistics
carry it over a restart) and the flow rate over the last reading interval (`flow`, L/min).
The interrupt handler only counts (no allocation, safe as a hard IRQ); readings take the
difference of the count, so no pulse is lost between two readings. A rate above `max_rate`
(an electrical fault, a noisy wire) is a failed reading and its pulses are not added.

Example config (hjson):
    irrigation_flow: {
        package: .sensors.pulse_counter
        component: PulseCounter
        constructor_args: {
            pin: 13                   # GPIO of the meter's pulse output
            pull: "up"                # optional: "up", "down" or none
            litres_per_pulse: 0.00222 # optional: litres per pulse, default 1/450 (YF-S201)
            max_rate: 60              # optional, L/min: above it the reading is refused
            interval_reading: 10      # optional, seconds (ComponentSensor)
        }
    }
"""

from pysmartnode.platform import ticks_diff, ticks_ms
from pysmartnode.platform.hardware import pin as gpio
from pysmartnode.utils.component import SENSOR_WATER, ComponentSensor


class PulseCounter(ComponentSensor):
    def __init__(self, name, pin, pull=None, litres_per_pulse=1 / 450, max_rate=60, **kwargs):
        super().__init__(name, **kwargs)
        if not (isinstance(litres_per_pulse, (int, float)) and litres_per_pulse > 0):
            raise ValueError("litres_per_pulse must be > 0, got %r" % (litres_per_pulse,))
        self._pin = gpio(pin, pull=pull)
        self._litres = litres_per_pulse
        self._max_rate = max_rate
        self._count = 0  # written only by the interrupt handler
        self._seen = 0  # the count at the last reading
        self._since = None  # ticks_ms of the last reading
        self._total = 0
        self._add_sensor_type(SENSOR_WATER, unit="L", precision=2)
        self._add_sensor_type("flow", unit="L/min", precision=2, device_class="volume_flow_rate")

    def _pulse(self, pin):
        self._count += 1

    def _start(self):
        self._pin.irq(handler=self._pulse, trigger=self._pin.IRQ_RISING)
        self._since = ticks_ms()
        super()._start()

    def stop(self):
        self._pin.irq(handler=None)
        super().stop()

    async def _read(self):
        now, count = ticks_ms(), self._count
        if self._since is None:  # read before start(): count from here
            self._since, self._seen = now, count
        pulses, seconds = count - self._seen, ticks_diff(now, self._since) / 1000
        self._seen, self._since = count, now
        rate = pulses * self._litres * 60 / seconds if seconds > 0 else 0
        if rate > self._max_rate:
            raise ValueError(
                "%.1f L/min is above max_rate %s: noise on the wire?" % (rate, self._max_rate)
            )
        self._total += pulses * self._litres
        self._set_value(SENSOR_WATER, self._total)
        self._set_value("flow", rate)
