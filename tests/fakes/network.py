# A fake of MicroPython's `network`: a station that connects after a few polls
STA_IF = 0
AP_IF = 1
names = []


def hostname(name=None):
    if name is not None:
        names.append(name)
    return names[-1] if names else "fake"


class WLAN:
    polls_to_connect = 2
    _interfaces = {}

    def __new__(cls, interface):
        if interface not in cls._interfaces:
            wlan = object.__new__(cls)
            wlan._init(interface)
            cls._interfaces[interface] = wlan
        return cls._interfaces[interface]

    def _init(self, interface):
        self.interface = interface
        self._active = False
        self._polls = -1
        self.joined = None

    def active(self, on=None):
        if on is None:
            return self._active
        self._active = on

    def connect(self, ssid, password):
        self.joined = (ssid, password)
        self._polls = WLAN.polls_to_connect

    def disconnect(self):
        self._polls = -1

    def isconnected(self):
        if self._polls > 0:
            self._polls -= 1
        return self._polls == 0

    def ifconfig(self):
        return ("192.168.1.50", "255.255.255.0", "192.168.1.1", "192.168.1.1")

    def status(self, param=None):
        return -60 if param == "rssi" else 1010
