"""Switches driven through pins: a GPIO relay, a dimmable LED, a dosing pump, a buzzer, a
NeoPixel strip, and a remote switch (another node's, over MQTT)."""
