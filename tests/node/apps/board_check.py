# Runs pysmartnode.platform.board on the fakes in tests/fakes and prints one line per check
import sys

sys.path.insert(0, sys.argv[1])  # tests/fakes, before the port's own machine module

import asyncio

import machine
import network
import ntptime

from pysmartnode.platform import board


def check(name, ok):
    print("check %s %s" % (name, "ok" if ok else "FAILED"))


check("device_id", board.device_id() == "1234abcd")
check("reset_cause", board.reset_cause() == "power on")
machine.cause = machine.WDT_RESET
check("reset_cause_wdt", board.reset_cause() == "hardware watchdog")
check("mem_free", board.mem_free() > 0)
board.restart(1)
check("restart", machine.resets == [True])

led = board.led(2, active_high=False)
led.on()
check("led_active_low_on", led._signal.pin.value() == 0)
led.off()
check("led_active_low_off", led._signal.pin.value() == 1)

seen = []
timer = board.every(0.5, lambda: seen.append(1))
machine.Timer.made[-1].fire()
check("every", seen == [1] and machine.Timer.made[-1].period == 500)
timer.stop()

check("ntp_sync", board.ntp_sync("ntp.lan") and ntptime.calls == ["ntp.lan"])


async def link():
    changes = []
    link = board.Link()
    link.on_change(changes.append)
    await link.connect("home-wifi", "secret", "node1")
    check("link_connected", link.isconnected() and link.ip() == "192.168.1.50")
    check("link_joined", network.WLAN(network.STA_IF).joined == ("home-wifi", "secret"))
    check("link_hostname", network.names == ["node1"])
    await asyncio.sleep(0.1)
    check("link_callback_up", changes == [True])
    network.WLAN(network.STA_IF).disconnect()
    await asyncio.sleep(1.2)
    check("link_callback_down", changes == [True, False])
    check("link_rssi", link.rssi() == -60)
    await link.up()
    check("link_up_again", link.isconnected() and link.watched)


asyncio.run(link())
print("board checks done")
