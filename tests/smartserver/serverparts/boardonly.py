"""A component that only imports on a board: `check` warns that it cannot read its arguments."""

import machine  # noqa: F401


class Led:
    def __init__(self, name, pin):
        self.pin = pin
