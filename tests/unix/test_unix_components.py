"""pysmartnode/components/unix in a real node on both runtimes: the values it publishes are the
host's (read from /proc and os.statvfs here, within a tolerance), the switch writes its file and
echoes its state, the button makes the sensors publish now, and Home Assistant takes the
discovery payload (our rules and HA's own schemas)."""

from __future__ import annotations

import os

from harness.ha_rules import validate_device_discovery

FAST = {"interval_reading": 1, "interval_publish": 1}


def sensors(thermal):
    return {
        "cpu_load": {"package": ".unix.load", "component": "CPULoad", "constructor_args": FAST},
        "memory": {"package": ".unix.memory", "component": "Memory", "constructor_args": FAST},
        "disk": {"package": ".unix.disk", "component": "Disk",
                 "constructor_args": {"path": "/", **FAST}},
        "uptime": {"package": ".unix.uptime", "component": "Uptime", "constructor_args": FAST},
        "cpu_temperature": {"package": ".unix.cpu_temperature", "component": "CPUTemperature",
                            "constructor_args": {"path": str(thermal), **FAST}},
        "network": {"package": ".unix.link", "component": "NetworkLink",
                    "constructor_args": {"interval_reading": 1}},
    }  # fmt: skip


def actors(lamp):
    return {
        "cpu_load": {"package": ".unix.load", "component": "CPULoad",
                     "constructor_args": {"interval_reading": 3600, "interval_publish": 3600}},
        "lamp": {"package": ".unix.file_switch", "component": "FileSwitch",
                 "constructor_args": {"path": str(lamp), "on": "on!", "off": "off!",
                                      "restore": "off"}},
        "refresh": {"package": ".unix.refresh_button", "component": "RefreshButton"},
    }  # fmt: skip


def components_py(components):
    # "_order": MicroPython does not keep a dict literal's order
    return "COMPONENTS = %r\n" % {"_order": list(components), **components}


def proc_loadavg() -> list[float]:
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def proc_meminfo() -> dict[str, int]:
    with open("/proc/meminfo") as f:
        return {line.split(":")[0]: int(line.split()[1]) for line in f}


def default_interface() -> str | None:
    with open("/proc/net/route") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000":
                return fields[0]
    return None


def test_system_sensors_publish_the_hosts_values(runtime, mosquitto, node_with, observer, tmp_path):  # fmt: skip
    thermal = tmp_path / "temp"
    thermal.write_text("45678\n")  # sysfs: millidegrees (the only faked part: no zone here)
    node = node_with(runtime, mosquitto, components_py(sensors(thermal)))
    obs = observer(mosquitto)
    obs.subscribe(f"home/{node.device_id}/#")

    load = obs.wait_message(node.topic("cpu_load"), timeout=20).json()
    host = proc_loadavg()
    for key, value in zip(("m1", "m5", "m15"), host, strict=True):
        assert abs(load[key] - value) <= 1.0 + 0.25 * value, (key, load, host)

    # Memory and disk move while other tests run beside this one (builds, venvs): the node's
    # figure must lie within the host's figures read just before and just after it, give or
    # take 1 % of the total
    before = proc_meminfo()["MemAvailable"]
    memory = obs.wait_message(node.topic("memory"), timeout=20).json()
    info = proc_meminfo()
    total, available = info["MemTotal"], info["MemAvailable"]
    low, high = sorted((before, available))
    slack = 0.01 * total
    assert low - slack <= memory["available"] * 1024 <= high + slack, (memory, before, info)
    assert abs(memory["used"] - 100 * (total - available) / total) <= 5, memory

    before = os.statvfs("/").f_bavail
    disk = obs.wait_message(node.topic("disk"), timeout=20).json()
    st = os.statvfs("/")
    low, high = sorted((before * st.f_frsize / 2**30, st.f_bavail * st.f_frsize / 2**30))
    slack = 0.01 * st.f_blocks * st.f_frsize / 2**30
    assert low - slack <= disk["free"] <= high + slack, (disk, before, st)
    used = st.f_blocks - st.f_bfree
    assert abs(disk["used"] - 100 * used / (used + st.f_bavail)) <= 1, disk

    uptime = float(obs.wait_message(node.topic("uptime"), timeout=20).text)
    with open("/proc/uptime") as f:
        assert abs(uptime - float(f.read().split()[0])) <= 5

    assert float(obs.wait_message(node.topic("cpu_temperature"), timeout=20).text) == 45.7
    thermal.write_text("51000\n")
    obs.wait_message(node.topic("cpu_temperature"), b"51.0", timeout=20)

    interface = default_interface()
    up = False
    if interface:
        with open(f"/sys/class/net/{interface}/operstate") as f:
            up = f.read().strip() == "up"
    obs.wait_message(node.topic("network"), b"ON" if up else b"OFF", timeout=20)


def test_file_switch_writes_its_file_and_the_button_refreshes(runtime, mosquitto, node_with, observer, tmp_path):  # fmt: skip
    lamp = tmp_path / "lamp"
    node = node_with(runtime, mosquitto, components_py(actors(lamp)))
    obs = observer(mosquitto)
    obs.subscribe(f"home/{node.device_id}/#")
    obs.wait_message(node.topic("lamp"), b"OFF", timeout=20)  # restore "off"
    assert lamp.read_text() == "off!"

    mark = obs.mark()
    obs.publish(node.topic("lamp/set"), "ON")
    obs.wait_message(node.topic("lamp"), b"ON", timeout=10, after=mark)
    assert lamp.read_text() == "on!"
    mark = obs.mark()
    obs.publish(node.topic("lamp/set"), "TOGGLE")
    obs.wait_message(node.topic("lamp"), b"OFF", timeout=10, after=mark)
    assert lamp.read_text() == "off!"

    # cpu_load publishes once an hour: a press makes it publish now
    obs.wait_message(node.topic("cpu_load"), timeout=20)  # the first reading after start
    mark = obs.mark()
    obs.publish(node.topic("refresh/set"), "PRESS")
    assert "m1" in obs.wait_message(node.topic("cpu_load"), timeout=10, after=mark).json()


def test_discovery_of_the_unix_components_is_valid(runtime, mosquitto, node_with, observer, tmp_path, ha_validate):  # fmt: skip
    thermal = tmp_path / "temp"
    thermal.write_text("40000")
    everything = {**sensors(thermal), **actors(tmp_path / "lamp")}
    node = node_with(runtime, mosquitto, components_py(everything))
    obs = observer(mosquitto)
    obs.subscribe("homeassistant/#")
    obs.wait_message(node.discovery_topic, lambda m: m.payload, timeout=20)
    late = observer(mosquitto)  # subscribes after the publication: gets the retained copy
    late.subscribe(node.discovery_topic)
    config = late.wait_message(node.discovery_topic, lambda m: m.retain, timeout=10)
    cmps = config.json()["cmps"]
    for key in ("cpu_load_m1", "memory_used", "disk_free", "uptime", "cpu_temperature", "network",
                "lamp", "refresh"):  # fmt: skip
        assert key in cmps, sorted(cmps)
    assert validate_device_discovery(config.topic, config.payload) == []
    assert ha_validate([(config.topic, config.payload)]) == []
