# Runs the sensors of pysmartnode/components/sensors on the fake chips (tests/fakes, argv[1]),
# without a broker, on either runtime. Prints one JSON line per check: {"check": name, "got": x};
# a failed reading's reason is the logged line "<name>: reading failed: ...".
# tests/components/test_sensors.py compares them with the datasheets.
import sys

sys.path.append(sys.argv[1])  # tests/fakes: after the port's own modules (machine is extensible)

import asyncio
import json

import fake_chips

from pysmartnode import node
from pysmartnode.components.sensors import atlas_ezo, ds18b20
from pysmartnode.components.sensors.analog import Analog
from pysmartnode.components.sensors.atlas_ezo import AtlasEZO
from pysmartnode.components.sensors.battery import Battery
from pysmartnode.components.sensors.bh1750 import BH1750
from pysmartnode.components.sensors.binary_input import BinaryInput
from pysmartnode.components.sensors.bme280 import BME280
from pysmartnode.components.sensors.dht import DHT11, DHT22
from pysmartnode.components.sensors.htu21d import HTU21D
from pysmartnode.components.sensors.mcp3208 import MCP3208
from pysmartnode.components.sensors.pulse_counter import PulseCounter
from pysmartnode.components.sensors.remote import RemoteSensor

ds18b20._CONVERSION_S = 0.01  # the fakes convert at once: keep the run short
atlas_ezo._WAIT_PH = atlas_ezo._WAIT_EC = 0.01


def report(name, got):
    print(json.dumps({"check": name, "got": got}))


class Handle:
    # node.mqtt for components started here: subscriptions kept, publications recorded
    def __init__(self):
        self.published = []

    def subscribe(self, *args):
        pass

    def unsubscribe(self, *args):
        pass

    async def publish(self, topic, msg, retain=False, qos=1):
        self.published.append([topic, msg])
        return True


def values(sensor):
    return {t: sensor._types[t][2] for t in sensor._types}


async def reading(name, sensor, faults=None):
    """One reading under these faults: [ok, values]; the reason is logged."""
    fake_chips.FAULTS.clear()
    fake_chips.FAULTS.update(faults or {})
    ok = await sensor._read_now()
    fake_chips.FAULTS.clear()
    report(name, [ok, values(sensor)])


TANK = "28ff4a1c8216043c"
PIPE = "28ff9e3361160337"


async def main():
    node.mqtt = Handle()
    precise = {"precision": 3, "interval_reading": -1, "interval_publish": -1}
    # conversions
    await reading("bme280", BME280("bme", 21, 22, **precise))
    await reading("htu21d", HTU21D("htu", 21, 22, **precise))
    await reading("bh1750", BH1750("bh", 21, 22, **precise))
    await reading("ds18b20_found", ds18b20.DS18B20("ds_all", 4))
    await reading("ds18b20_roms", ds18b20.DS18B20("ds_roms", 4, roms={"tank": TANK, "pipe": PIPE}))
    await reading("dht22", DHT22("dht22", 4))
    await reading("dht11", DHT11("dht11", 5))
    soil = Analog("soil", 34, calibration=[[52000, 0], [21000, 100]], precision=2)
    await reading("analog", soil)
    await reading("battery", Battery("bat", 35), {"adc:35": 39000})
    await reading("mcp3208", MCP3208("mcp", 18, 23, 19, 5, {"a": 0, "b": 3, "c": 7}, **precise))
    await reading("ezo_ph_i2c", AtlasEZO("ph", "ph", sda=21, scl=22))
    tank = ds18b20.DS18B20("tank_t", 4, roms={"tank": TANK})
    tank._set_value("tank", 20.0)  # the water is at 20 °C
    ph = AtlasEZO("ph_t", "ph", sda=21, scl=22, temperature=tank, temperature_type="tank")
    await reading("ezo_ph_i2c_compensated", ph)
    await reading("ezo_ec_uart", AtlasEZO("ec", "ec", uart=2))
    ec = AtlasEZO("ec_t", "ec", uart=2, temperature=tank, temperature_type="tank")
    await reading("ezo_ec_uart_compensated", ec)
    report("ezo_ec_uart_commands", ec._bus._ezo.commands)

    # faults: each a fresh component, so each logs its own "reading failed"
    faults = [
        ("bme280_absent", lambda n: BME280(n, 21, 22), {"i2c:118": "enodev"}),
        ("bme280_timeout", lambda n: BME280(n, 21, 22), {"i2c:118": "etimedout"}),
        ("bme280_skipped", lambda n: BME280(n, 21, 22), {"i2c:118": "range"}),
        ("htu21d_crc", lambda n: HTU21D(n, 21, 22), {"i2c:64": "crc"}),
        ("htu21d_absent", lambda n: HTU21D(n, 21, 22), {"i2c:64": "enodev"}),
        ("bh1750_timeout", lambda n: BH1750(n, 21, 22), {"i2c:35": "etimedout"}),
        ("ds18b20_crc", lambda n: ds18b20.DS18B20(n, 4), {"ow:" + TANK: "crc"}),
        ("ds18b20_power_on", lambda n: ds18b20.DS18B20(n, 4), {"ow:" + PIPE: "range"}),
        ("ds18b20_short", lambda n: ds18b20.DS18B20(n, 4), {"ow:" + TANK: "short"}),
        (
            "ds18b20_gone",
            lambda n: ds18b20.DS18B20(n, 4, roms={"t": TANK}),
            {"ow:" + TANK: "enodev"},
        ),
        ("ds18b20_none_found", lambda n: ds18b20.DS18B20(n, 4), {"ow:pin4": "enodev"}),
        (
            "ds18b20_no_presence",
            lambda n: ds18b20.DS18B20(n, 4, roms={"t": TANK}),
            {"ow:pin4": "enodev"},
        ),
        ("dht22_checksum", lambda n: DHT22(n, 4), {"dht:4": "crc"}),
        ("dht22_timeout", lambda n: DHT22(n, 4), {"dht:4": "etimedout"}),
        ("dht22_range", lambda n: DHT22(n, 4), {"dht:4": "range"}),
        ("analog_rail", lambda n: Analog(n, 34), {"adc:34": "range"}),
        ("battery_saturated", lambda n: Battery(n, 35), {"adc:35": "range"}),
        ("battery_missing", lambda n: Battery(n, 35), {"adc:35": 1000}),
        ("mcp3208_absent", lambda n: MCP3208(n, 18, 23, 19, 5, {"a": 0}), {"spi:5": "float"}),
        ("ezo_i2c_error", lambda n: AtlasEZO(n, "ph", sda=21, scl=22), {"i2c:99": "error"}),
        ("ezo_i2c_nan", lambda n: AtlasEZO(n, "ph", sda=21, scl=22), {"i2c:99": "range"}),
        ("ezo_uart_error", lambda n: AtlasEZO(n, "ec", uart=2), {"uart:2": "error"}),
        ("ezo_uart_nan", lambda n: AtlasEZO(n, "ec", uart=2), {"uart:2": "range"}),
    ]
    for name, make, fault in faults:
        await reading(name, make(name), fault)

    # binary input: a new level counts once it held for debounce (5 polls of 10 ms)
    fake_chips.FAULTS["pin:14"] = 1
    door = BinaryInput("door", 14, pull="up", invert=True, debounce=0.05, poll=0.01)
    states = []
    for level, polls in ((1, 5), (0, 2), (1, 3), (0, 4), (0, 1), (1, 1)):
        fake_chips.FAULTS["pin:14"] = level
        for _ in range(polls):
            await door._read()
        states.append([level, polls, door.state()])
    fake_chips.FAULTS.clear()
    report("binary_input_debounce", states)

    # pulse counter: 45 pulses/s at 1/450 L per pulse is 6 L/min
    flow = PulseCounter("flow", 13, interval_reading=-1, interval_publish=-1)
    flow.start()
    fake_chips.FAULTS["pin:13"] = 45
    await asyncio.sleep(1.0)
    ok = await flow._read_now()
    report("pulse_counter", [ok, values(flow), flow._count])
    fake_chips.FAULTS["pin:13"] = 20000  # a noisy wire: far above max_rate
    await asyncio.sleep(0.3)
    ok = await flow._read_now()
    report("pulse_counter_noise", [ok, values(flow)])
    fake_chips.FAULTS.clear()
    flow.stop()

    # remote sensor: numbers in, garbage refused, stale after `stale` seconds
    remote = RemoteSensor("outside", "home/garden/climate", key="temperature",
                          sensor_type="temperature", stale=0.3)  # fmt: skip
    got = [await remote._read_now()]
    remote._on_message("home/garden/climate", '{"temperature": 21.5}', False)
    got.append([await remote._read_now(), values(remote), await remote.getValue("temperature")])
    for bad in ('{"temperature": NaN}', '{"humidity": 40}', '{"temperature": "warm"}', "[1]"):
        try:
            remote._on_message("home/garden/climate", bad, False)
            got.append("accepted " + bad)
        except ValueError:
            got.append("refused")
    await asyncio.sleep(0.4)
    got.append([await remote._read_now(), await remote.getValue("temperature")])
    report("remote", got)


asyncio.run(main())
sys.exit(0)
