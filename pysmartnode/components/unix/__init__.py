"""Components for Linux hosts, on CPython and the MicroPython unix port: system sensors read from
/proc and /sys, a switch that writes a file, a link sensor, a refresh button.

Their classes call the base class by name (`ComponentSensor.__init__(self, ...)`), not through
`super()`: on MicroPython a method that uses `super()` is a closure, 32 B more per class."""
