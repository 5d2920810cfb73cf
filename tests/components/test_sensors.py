"""The sensors of pysmartnode/components/sensors on the fake chips (tests/fakes), on both
runtimes without a broker (tests/components/apps/sensor_check.py prints what it saw): readings
match the datasheets' formulas and examples; every fault real hardware gives is a failed
reading (nothing set, so nothing published) with a logged reason."""

from __future__ import annotations

import sys

import pytest
from fake_hardware import FAKES
from harness import REPO
from harness.runtimes import app_checks

APP = REPO / "tests" / "components" / "apps" / "sensor_check.py"
sys.path.append(str(FAKES))
import fake_chips  # noqa: E402  (the chips' constants: the expected values derive from them)


@pytest.fixture(scope="module")
def runs() -> dict:
    return {}


@pytest.fixture
def run(runtime, run_py, runs) -> tuple[dict, str]:
    """({check: got}, output) of the app on this runtime (one process per runtime)."""
    return app_checks(runs, runtime, run_py, APP, str(FAKES))


def bme280_float(adc_t: int, adc_p: int, adc_h: int) -> tuple[float, float, float]:
    """The datasheet's floating-point compensation (BST-BME280-DS002 §8.1): °C, hPa, %RH."""
    t1, t2, t3 = fake_chips.BME280.T
    p1, p2, p3, p4, p5, p6, p7, p8, p9 = fake_chips.BME280.P
    h1, h2, h3, h4, h5, h6 = fake_chips.BME280.H
    var1 = (adc_t / 16384.0 - t1 / 1024.0) * t2
    var2 = ((adc_t / 131072.0 - t1 / 8192.0) ** 2) * t3
    t_fine = var1 + var2
    var1 = t_fine / 2.0 - 64000.0
    var2 = var1 * var1 * p6 / 32768.0 + var1 * p5 * 2.0
    var2 = var2 / 4.0 + p4 * 65536.0
    var1 = (p3 * var1 * var1 / 524288.0 + p2 * var1) / 524288.0
    var1 = (1.0 + var1 / 32768.0) * p1
    p = (1048576.0 - adc_p - var2 / 4096.0) * 6250.0 / var1
    p += (p9 * p * p / 2147483648.0 + p * p8 / 32768.0 + p7) / 16.0
    h = t_fine - 76800.0
    h = (adc_h - (h4 * 64.0 + h5 / 16384.0 * h)) * (
        h2 / 65536.0 * (1.0 + h6 / 67108864.0 * h * (1.0 + h3 / 67108864.0 * h))
    )
    h *= 1.0 - h1 * h / 524288.0
    return t_fine / 5120.0, p / 100, min(max(h, 0.0), 100.0)


def test_bme280_compensation_agrees_with_the_datasheet_example_and_float_formulas(run):
    got = run[0]["bme280"]
    assert got[0] is True
    t, p, h = bme280_float(
        fake_chips.BME280.RAW_T, fake_chips.BME280.RAW_P, fake_chips.BME280.RAW_H
    )
    values = got[1]
    assert values["temperature"] == pytest.approx(25.08, abs=0.005)  # the datasheet's example
    assert values["pressure"] == pytest.approx(1006.5327, abs=0.005)  # 100653.27 Pa there
    assert values["temperature"] == pytest.approx(t, abs=0.01)
    assert values["pressure"] == pytest.approx(p, abs=0.02)
    assert values["humidity"] == pytest.approx(h, abs=0.05)
    assert 20 < values["humidity"] < 80


def test_htu21d_converts_the_datasheet_words_and_compensates_humidity(run):
    ok, values = run[0]["htu21d"]
    t = -46.85 + 175.72 * 0x6838 / 65536  # status bits of 0x683A cleared
    rh = -6 + 125 * 0x4E84 / 65536 + (25 - t) * -0.15
    assert ok and values == {"temperature": round(t, 3), "humidity": round(rh, 3)}


def test_crcs_match_the_datasheet_examples():
    from pysmartnode.components.sensors import ds18b20, htu21d

    assert htu21d.crc8(b"\x68\x3a") == 0x7C  # HTU21D datasheet: temperature example
    assert htu21d.crc8(b"\x4e\x85") == 0x6B  # humidity example
    assert ds18b20.crc8(bytes.fromhex("021cb80100000 0a2".replace(" ", ""))) == 0  # Maxim AN27
    assert ds18b20.crc8(bytes.fromhex("021cb80100000 0a3".replace(" ", ""))) != 0


@pytest.mark.parametrize(
    ("raw", "celsius"),
    [(0x07D0, 125.0), (0x0191, 25.0625), (0x0008, 0.5), (0xFF5E, -10.125), (0xFC90, -55.0)],
    ids=["125", "25.0625", "0.5", "-10.125", "-55"],
)
def test_ds18b20_scratchpad_gives_the_datasheet_temperatures(raw, celsius):
    from pysmartnode.components.sensors import ds18b20

    body = bytes((raw & 0xFF, raw >> 8, 0x4B, 0x46, 0x7F, 0xFF, 0x10 - (raw & 0xF), 0x10))
    assert ds18b20.celsius(body + bytes((ds18b20.crc8(body),))) == celsius


def test_ds18b20_rejects_roms_that_are_not_ds18b20():
    from pysmartnode.components.sensors.ds18b20 import parse_rom

    assert parse_rom("28ff4a1c8216043c")[0] == 0x28
    for bad in ("28ff4a1c8216043d", "10ff4a1c8216043c"[:15], "zz" * 8, "021cb801000000a2"):
        with pytest.raises(ValueError, match="no DS18B20 ROM"):
            parse_rom(bad)


EXPECTED = {
    "bh1750": {"illuminance": round(0x1F40 / 1.2, 3)},
    "ds18b20_found": {"t_16043c": 21.5, "t_160337": -10.125, "t_05069e": 85.0},
    "ds18b20_roms": {"tank": 21.5, "pipe": -10.125},
    "dht22": {"temperature": 23.4, "humidity": 45.6},
    "dht11": {"temperature": 23.4, "humidity": 45},
    "analog": {"value": round((30000 - 52000) * 100 / (21000 - 52000), 2)},
    # 39000 / 65535 * 3.3 V * 2 = 3.928 V: between 3.9 V (75 %) and 4.0 V (85 %) on the curve
    "battery": {"voltage": 3.93, "battery": 78},
    "mcp3208": {
        "a": round(100 * 3.3 / 4095, 3),
        "b": round(1600 * 3.3 / 4095, 3),
        "c": round(3600 * 3.3 / 4095, 3),
    },  # fmt: skip
    "ezo_ph_i2c": {"ph": 7.02},  # uncompensated: the circuit assumes 25 °C
    "ezo_ph_i2c_compensated": {"ph": 7.0},  # RT,20.0 from the water's DS18B20
    "ezo_ec_uart": {"conductivity": 1.272},
    "ezo_ec_uart_compensated": {"conductivity": 1.413},  # the 1413 µS/cm standard
}


@pytest.mark.parametrize("check", list(EXPECTED), ids=list(EXPECTED))
def test_reading_converts_raw_bytes_to_the_expected_values(run, check):
    assert run[0][check] == [True, EXPECTED[check]]


def test_ezo_on_uart_turns_continuous_mode_off_and_sends_the_temperature(run):
    assert run[0]["ezo_ec_uart_commands"][-2:] == ["C,0", "RT,20.0"]


FAULTS = {
    "bme280_absent": "OSError: ",  # the port's ENODEV: "19" / "[Errno 19] ENODEV"
    "bme280_timeout": "OSError: ",
    "bme280_skipped": "skipped the measurement",
    "htu21d_crc": "CRC mismatch",
    "htu21d_absent": "OSError: ",
    "bh1750_timeout": "OSError: ",
    "ds18b20_crc": "28ff4a1c8216043c): CRC mismatch",
    "ds18b20_power_on": "28ff9e3361160337): power-on value 85",
    "ds18b20_short": "held low",
    "ds18b20_gone": "no answer (all ones)",
    "ds18b20_none_found": "no DS18B20 found",
    "ds18b20_no_presence": "no presence pulse",
    "dht22_checksum": "bad data: checksum error",
    "dht22_timeout": "no answer (",
    "dht22_range": "out of range: 23.4 °C, 120.0 %",
    "analog_rail": "at the rail (raw 65535)",
    "battery_saturated": "ADC saturated",
    "battery_missing": "below min_volts",
    "mcp3208_absent": "null bit high",
    "ezo_i2c_error": "answered code 2 to R",  # 2: syntax error
    "ezo_i2c_nan": "reading nan out of range",
    "ezo_uart_error": "answered *ER",
    "ezo_uart_nan": "reading nan out of range",
}


@pytest.mark.parametrize("check", list(FAULTS), ids=list(FAULTS))
def test_a_fault_is_a_failed_reading_with_its_reason_logged_and_no_value(run, check):
    found, output = run
    ok, values = found[check]
    assert ok is False
    if check == "ds18b20_power_on":  # the tank's real reading stays; the reading still failed
        assert values["t_160337"] is None and values["t_05069e"] is None
    else:
        assert all(v is None for v in values.values()), values
    assert f"{check}: reading failed: " in output
    line = next(x for x in output.splitlines() if f"{check}: reading failed: " in x)
    assert FAULTS[check] in line, line


def test_binary_input_changes_only_after_a_level_held_for_the_debounce(run):
    # [level, polls, state after]: inverted input, 5 polls to change
    assert run[0]["binary_input_debounce"] == [
        [1, 5, False],  # the first level, once held
        [0, 2, False],  # a glitch
        [1, 3, False],
        [0, 4, False],  # not yet
        [0, 1, True],  # the fifth poll
        [1, 1, True],
    ]


def test_pulse_counter_counts_litres_and_flow_and_refuses_noise(run):
    ok, values, pulses = run[0]["pulse_counter"]
    assert ok and 20 <= pulses <= 50  # 45/s for about 1 s
    assert values["water"] == round(pulses / 450, 2)
    assert 3.0 < values["flow"] < 7.0  # 6 L/min nominal
    ok, after = run[0]["pulse_counter_noise"]
    assert ok is False and after == values  # nothing added from the noisy pulses
    assert "flow: reading failed: ValueError: " in run[1]


def test_remote_sensor_takes_numbers_refuses_garbage_and_goes_stale(run):
    got = run[0]["remote"]
    assert got[0] is False  # nothing received yet
    assert got[1] == [True, {"temperature": 21.5}, 21.5]
    assert got[2:6] == ["refused"] * 4  # NaN, missing key, text, not an object
    assert got[6] == [False, None]  # stale: no reading, getValue gives None
    assert "outside: reading failed: OSError: stale: no message on home/garden/climate" in run[1]
