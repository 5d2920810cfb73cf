"""What the two Linux ports (CPython and the MicroPython unix port) share: the host's network."""


def __getattr__(name):
    # What is asked for once, at start, or now and then (clean_name, host_name, led, ntp_sync;
    # route_ip, for a status report; the Link's connect, isconnected, rssi, on_change):
    # functions of _host_rare.py, loaded for the lookup and dropped at once. This module lives
    # as long as the node's Link (its methods hold it), so it keeps only the Link
    if (" %s " % name) not in (
        " clean_name host_name led ntp_sync route_ip link_connect link_isconnected link_rssi"
        " link_on_change "
    ):
        raise AttributeError(name)
    from pysmartnode.utils import use_once

    return getattr(use_once("pysmartnode.platform._host_rare"), name)


class Link:
    """The host's network: always up, managed by the operating system.

    connect(), isconnected(), rssi() and on_change(callback) are asked once or never: functions
    of _host_rare.py taking the link, loaded for the call (see __getattr__)."""

    watched = False  # nothing for the MQTT client to check or bring up

    def ip(self):
        # The unix port's sockets have no getsockname(): read the kernel's tables instead
        # (cpython.py has its own way); route_ip is _host_rare.py's, loaded for the call
        return __getattr__("route_ip")()

    def __getattr__(self, name):
        if name not in ("connect", "isconnected", "rssi", "on_change"):
            raise AttributeError(name)
        func = __getattr__("link_" + name)  # this module's: loads _host_rare for the lookup
        return lambda *args, **kwargs: func(self, *args, **kwargs)
