"""Components for Linux hosts, on CPython and the MicroPython unix port: system sensors read from
/proc and /sys, a switch that writes a file, a link sensor, a refresh button."""
