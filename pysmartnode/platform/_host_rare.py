"""What the Linux ports ask _host.py for once, at start, or now and then: the host's name as a
device id, the board extras Linux has not (a status LED, NTP), the host's address (a status
report), and the Link's methods that have nothing to do on a host. _host.py's __getattr__ loads this module for each lookup and drops it at once, so the
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


def route_ip(trie="/proc/net/fib_trie", route="/proc/net/route"):
    """The host's IPv4 address toward its default gateway, or None.

    The host's own addresses are the "/32 host LOCAL" leaves of the kernel's FIB trie; of those
    (loopback left out) the one sharing the longest prefix with the default gateway wins, the
    first one where there is no default route.
    """
    import sys

    found = []
    try:
        with open(trie) as f:
            leaf = None
            for line in f:
                line = line.strip()
                if line.startswith("|-- "):
                    leaf = line[4:]
                elif line == "/32 host LOCAL" and leaf and not leaf.startswith("127."):
                    if leaf not in found:
                        found.append(leaf)
    except (OSError, ValueError):
        return None
    if len(found) < 2:
        return found[0] if found else None
    gateway = None
    try:
        with open(route) as f:
            for line in f:
                cols = line.split()
                if len(cols) > 2 and cols[1] == "00000000":
                    # the kernel prints the address's four bytes as one number in host order
                    raw = int(cols[2], 16).to_bytes(4, sys.byteorder)
                    gateway = (raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]
                    break
    except (OSError, ValueError):
        pass
    if gateway is None:
        return found[0]

    # the smaller the XOR with the gateway, the longer the prefix both share
    def dotted_to_int(text):
        n = 0
        for part in text.split("."):
            n = (n << 8) | int(part)
        return n

    return min(found, key=lambda address: dotted_to_int(address) ^ gateway)


# The Link's (_host.Link.__getattr__): the host's network is always up, managed by the OS


async def link_connect(link, ssid=None, password=None, hostname=None):
    return True


def link_isconnected(link):
    return True


def link_rssi(link):
    return None


def link_on_change(link, callback):
    pass  # the host's link never reports a change: the MQTT client sees outages itself
