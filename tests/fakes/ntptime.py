# A fake of MicroPython's `ntptime`
host = "pool.ntp.org"
calls = []


def settime():
    calls.append(host)
