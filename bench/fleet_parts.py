"""The component the fleet benchmark's configs name (`smartserver check` reads its signature)."""


class Sensor:
    def __init__(self, name, pin, interval=60):
        self.name, self.pin, self.interval = name, pin, interval
