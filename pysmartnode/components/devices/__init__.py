"""Devices built from other components: displays and a climate controller."""
