"""Test fake of MicroPython's `network` module: one station interface whose joins we script."""

STA_IF = 0
AP_IF = 1


class _Station:
    def __init__(self):
        self.calls = []
        self.join_after = 2  # isconnected() polls before a join succeeds; -1: never
        self.joined = False
        self._polls = 0

    def active(self, on=None):
        if on is not None:
            self.calls.append(("active", on))
        return True

    def config(self, **kw):
        self.calls.append(("config", kw))

    def connect(self, ssid, password):
        self.calls.append(("connect", ssid, password))
        self._polls = 0

    def isconnected(self):
        if not self.joined and self.join_after >= 0:
            self._polls += 1
            self.joined = self._polls > self.join_after
        return self.joined

    def status(self):
        return 1010 if self.joined else 201  # ESP32's "got IP" and "no AP found"

    def lose_ap(self, rejoin_after):
        """The access point goes away; it is back after `rejoin_after` polls of isconnected()."""
        self.joined = False
        self._polls = 0
        self.join_after = rejoin_after

    def disconnect(self):
        self.calls.append(("disconnect",))
        self.joined = False
        self._polls = 0


_station = _Station()


def WLAN(interface):  # noqa: N802 - the real constructor's name
    return _station
