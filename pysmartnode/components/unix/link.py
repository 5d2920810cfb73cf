"""Network link of the host (binary_sensor, connectivity): ON while the interface is up.

Without `interface` it watches the interface of the default route (/proc/net/route), looked up
again at every poll, so it follows a switch from Wi-Fi to Ethernet.

Example config (hjson):
    link: {
        package: .unix.link
        component: NetworkLink
        constructor_args: {
            # interface: "eth0"   # optional: default the interface of the default route
            interval_reading: 10    # optional, seconds between polls
        }
    }
"""

from pysmartnode.utils.component import ComponentBinarySensor


def default_interface():
    """The interface of the default route, or None (no default route)."""
    with open("/proc/net/route") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 2 and fields[1] == "00000000" and fields[0] != "Iface":
                return fields[0]
    return None


class NetworkLink(ComponentBinarySensor):
    def __init__(self, name, interface=None, interval_reading=10, **kwargs):
        ComponentBinarySensor.__init__(self, name, device_class="connectivity",
                                       interval_reading=interval_reading, **kwargs)  # fmt: skip
        self._interface = interface

    async def _read(self):
        interface = self._interface or default_interface()
        if interface is None:
            self._set_state(False)  # no default route: not connected
            return
        with open("/sys/class/net/%s/operstate" % interface) as f:
            self._set_state(f.read().strip() == "up")
