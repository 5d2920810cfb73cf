"""Components for the SmartServer tests (the tree has no sensor yet): their signatures are what
`smartserver check` reads."""


class Thermo:
    def __init__(self, name, pin, interval=60):
        self.name, self.pin, self.interval = name, pin, interval


class Relay:
    def __init__(self, name, pin, sensor=None):
        self.name, self.pin, self.sensor = name, pin, sensor


class SensorBase:
    """Stands in for ComponentSensor: the arguments a subclass passes on with **kwargs."""

    def __init__(self, name, interval_publish=60, friendly_name=None):
        self.name = name


class Hygro(SensorBase):
    def __init__(self, name, pin, **kwargs):
        super().__init__(name, **kwargs)
        self.pin = pin
