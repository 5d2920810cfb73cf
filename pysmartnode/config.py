"""The node's settings: config_base's defaults, overridden at start-up by the user's config.

Read them as attributes, `config.MQTT_HOME`, after `pysmartnode.main` has loaded them (until then
they are the defaults). This module holds settings only; it builds nothing (docs/config.md).
"""

# The defaults are one constant (config_base.DEFAULTS, in the firmware when frozen): a setting
# the user did not set is answered from there (__getattr__), so this module's table holds only
# the settings config_loader set, not all 34 (a table of 37 slots, 0.6 KiB for good)
from pysmartnode.config_base import DEFAULTS as _DEFAULTS


class ConfigError(ValueError):
    """A setting or a config file is wrong; the message names it and says what is valid."""


def __getattr__(name):
    for option, default in _DEFAULTS:
        if option == name:
            return default
    raise AttributeError(name)
