"""What the two Linux ports (CPython and the MicroPython unix port) share: the host's network."""


def __getattr__(name):
    # What is asked for once, at start (clean_name, host_name, led, ntp_sync; the Link's
    # connect, isconnected, rssi, on_change): functions of _host_rare.py, loaded for the lookup
    # and dropped at once. This module lives as long as the node's Link (its methods hold it),
    # so it keeps only what the Link uses
    if (" %s " % name) not in (
        " clean_name host_name led ntp_sync link_connect link_isconnected link_rssi link_on_change "
    ):
        raise AttributeError(name)
    import sys

    full = "pysmartnode.platform._host_rare"
    __import__(full)
    module = sys.modules.pop(full)
    package = sys.modules.get("pysmartnode.platform")
    if package is not None and "_host_rare" in package.__dict__:
        delattr(package, "_host_rare")
    return getattr(module, name)


class Link:
    """The host's network: always up, managed by the operating system.

    connect(), isconnected(), rssi() and on_change(callback) are asked once or never: functions
    of _host_rare.py taking the link, loaded for the call (see __getattr__)."""

    watched = False  # nothing for the MQTT client to check or bring up

    def ip(self):
        # The unix port's sockets have no getsockname(): read the kernel's tables instead
        # (cpython.py has its own way)
        return route_ip()

    def __getattr__(self, name):
        if name not in ("connect", "isconnected", "rssi", "on_change"):
            raise AttributeError(name)
        func = __getattr__("link_" + name)  # this module's: loads _host_rare for the lookup
        return lambda *args, **kwargs: func(self, *args, **kwargs)


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
