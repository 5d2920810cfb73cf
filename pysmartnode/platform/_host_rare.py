"""What the Linux ports ask _host.py for once, at start: the host's name as a device id, the
board extras Linux has not (a status LED, NTP), and the Link's methods that have nothing to do
on a host. _host.py's __getattr__ loads this module for each lookup and drops it at once, so the
idle node holds none of it."""


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


def led(pin, active_high=True):
    raise OSError("WIFI_LED needs a board with pins; set it to None on Linux")


def ntp_sync(server):
    return False  # the operating system keeps the clock


# The Link's (_host.Link.__getattr__): the host's network is always up, managed by the OS


async def link_connect(link, ssid=None, password=None, hostname=None):
    return True


def link_isconnected(link):
    return True


def link_rssi(link):
    return None


def link_on_change(link, callback):
    pass  # the host's link never reports a change: the MQTT client sees outages itself
