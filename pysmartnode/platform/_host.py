"""What the two Linux ports (CPython and the MicroPython unix port) share: the host's network."""


def clean_name(name):
    """A host name reduced to a topic level: lower case, [a-z0-9_-] only."""
    # As bytes: iterating a str interns each character as a qstr on MicroPython, for good
    out = bytearray(name.strip().lower().encode())
    for i in range(len(out)):
        b = out[i]
        if not (97 <= b <= 122 or 48 <= b <= 57 or b == 95 or b == 45):  # a-z 0-9 _ -
            out[i] = 95
    return out.decode() or "node"


def host_name():
    for path in ("/proc/sys/kernel/hostname", "/etc/hostname"):
        try:
            with open(path) as f:
                return clean_name(f.read())
        except OSError:
            pass
    return "node"


class Link:
    """The host's network: always up, managed by the operating system."""

    watched = False  # nothing for the MQTT client to check or bring up

    async def connect(self, ssid=None, password=None, hostname=None):
        return True

    def isconnected(self):
        return True

    def ip(self):
        return None  # each port knows its own way (cpython.py, unix.py)

    def rssi(self):
        return None

    def on_change(self, callback):
        pass  # the host's link never reports a change: the MQTT client sees outages itself


def led(pin, active_high=True):
    raise OSError("WIFI_LED needs a board with pins; set it to None on Linux")


def ntp_sync(server):
    return False  # the operating system keeps the clock
