"""The node's settings: config_base's defaults, overridden at start-up by the user's config.

Read them as attributes, `config.MQTT_HOME`, after `pysmartnode.main` has loaded them (until then
they are the defaults). This module holds settings only; it builds nothing (docs/config.md).
"""

from pysmartnode.config_base import *  # noqa: F403  the defaults; config_loader overrides them


class ConfigError(ValueError):
    """A setting or a config file is wrong; the message names it and says what is valid."""
