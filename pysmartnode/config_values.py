"""The options' values: which names exist, their types and ranges, and the errors that say so.

config_loader runs these while it loads the settings; start-up drops both modules afterwards.
"""

from pysmartnode import config_base
from pysmartnode.config import ConfigError

# Options whose values are never shown in a message
SECRETS = ("MQTT_PASSWORD", "WIFI_PASSPHRASE")

# Options whose default is None, and what they take when set
_NULLABLE = {
    "DEVICE_NAME": (str,),
    "MQTT_TLS_CA": (str,),
    "MQTT_TLS_CERT": (str,),
    "MQTT_TLS_KEY": (str,),
    "WIFI_LED": (int, str),
    "MQTT_CONFIG_SECRET": (str,),
}
_WHOLE_NUMBERS = ("MQTT_PORT", "MQTT_KEEPALIVE", "LOG_QUEUE_LEN")
# Options of the 6.x series that are gone, and what replaced them
REMOVED = {
    "LIGTWEIGHT_LOG": "there is one light logger now; remove the line",
    "LIGHTWEIGHT_LOG": "there is one light logger now; remove the line",
    "USE_SOFTWARE_WATCHDOG": "use WATCHDOG_TIMEOUT (seconds, 0 turns it off)",
    "WATCHDOG_LEVEL": "use WATCHDOG_TIMEOUT (seconds, 0 turns it off)",
    "MQTT_TYPE": "there is one MQTT client; remove the line",
    "MQTT_MAX_CONCURRENT_EXECUTIONS": "callbacks are bounded by the node; remove the line",
    "WEBREPL_ACTIVE": "start webrepl from boot.py if you need it",
    "WEBREPL_PASSWORD": "start webrepl from boot.py if you need it",
    "FTP_ACTIVE": "the FTP server (no authentication) was dropped; use mpremote",
    "WIFI_SLEEP_MODE": "set it in boot.py with esp.sleep_type()",
    "DEBUG_STOP_AFTER_EXCEPTION": "the node always logs and resets; use DEBUG for detail",
    "INTERVAL_SEND_SENSOR": "use INTERVAL_SENSOR_PUBLISH",
}


def option_names():
    """The valid option names, sorted."""
    return sorted(name for name, _ in config_base.DEFAULTS)


def _default(name):
    for option, default in config_base.DEFAULTS:
        if option == name:
            return default
    raise KeyError(name)


def closest(name, names):
    """The entry of names nearest to name by edit distance (for 'did you mean' hints)."""
    best, best_distance = None, 1 << 30
    for candidate in names:
        d = _distance(name, candidate)
        if d < best_distance:
            best, best_distance = candidate, d
    return best


def _distance(a, b):
    # Edit distance where swapping two neighbours counts once (MQTT_HOTS is MQTT_HOST's typo,
    # not MQTT_HOME's); three rows, and it runs only when reporting an error
    before, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a):
        current = [i + 1]
        for j, cb in enumerate(b):
            d = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca != cb))
            if before and i and j and ca == b[j - 1] and a[i - 1] == cb:
                d = min(d, before[j - 1] + 1)
            current.append(d)
        before, previous = previous, current
    return previous[-1]


def _unknown(name, source):
    if name in REMOVED:
        return ConfigError("%s: option %s was removed: %s" % (source, name, REMOVED[name]))
    return ConfigError(
        "%s: unknown option %s; did you mean %s? (every option is in config_example.py)"
        % (source, name, closest(name, option_names()))
    )


def _type_name(types):
    return " or ".join(t.__name__ for t in types)


def _shown(name, value):
    # A secret's value never reaches a message (the console, a log file, the journal)
    if name in SECRETS:
        return "%s (value hidden)" % type(value).__name__
    return repr(value)


def check(name, value, source):
    """Checks one option and returns its value.

    Raises:
        ConfigError: unknown name, wrong type, or a value out of range.
    """
    names = option_names()
    if name not in names:
        raise _unknown(name, source)
    default = _default(name)
    wanted = None
    if default is None:
        types = _NULLABLE[name]
        if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
            wanted = "%s or None" % _type_name(types)
    elif isinstance(default, bool):
        if not isinstance(value, bool):
            wanted = "True or False"
    elif isinstance(default, (int, float)):
        types = (int,) if name in _WHOLE_NUMBERS else (int, float)
        if isinstance(value, bool) or not isinstance(value, types):
            wanted = "a number (%s)" % _type_name(types)
    elif not isinstance(value, type(default)):
        wanted = type(default).__name__
    if wanted:
        raise ConfigError("%s: %s must be %s, got %s" % (source, name, wanted, _shown(name, value)))
    _check_range(name, value, source)
    return value


def _check_range(name, value, source):
    problem = None
    if name == "MQTT_PORT" and not 0 < value < 65536:
        problem = "a TCP port, 1 to 65535"
    elif name == "MQTT_KEEPALIVE" and not 0 <= value < 65536:
        problem = "seconds, 0 to 65535"
    elif name in ("INTERVAL_SENSOR_PUBLISH", "INTERVAL_SENSOR_READ") and value <= 0:
        problem = "seconds, more than 0"
    elif name == "WATCHDOG_TIMEOUT" and value < 0:
        problem = "seconds, or 0 to turn the watchdog off"
    elif name == "LOG_QUEUE_LEN" and value < 1:
        problem = "at least 1"
    elif name in ("MQTT_CONFIG_WAIT", "MQTT_CONFIG_APPLY_WAIT") and value <= 0:
        problem = "seconds, more than 0"
    elif name in ("MQTT_HOME", "DEVICE_NAME", "MQTT_AVAILABILITY_SUBTOPIC") and value is not None:
        if not value or "+" in value or "#" in value or (name == "DEVICE_NAME" and "/" in value):
            problem = "a non-empty topic level without + # or /"
    if problem:
        raise ConfigError(
            "%s: %s must be %s, got %s" % (source, name, problem, _shown(name, value))
        )


def from_text(name, text, source):
    """Converts an environment variable's text to the option's type, then checks it."""
    if name not in option_names():
        raise _unknown(name, source)
    default = _default(name)
    types = _NULLABLE.get(name) or (type(default),)
    lowered = text.strip().lower()
    if default is None and lowered in ("", "none", "null"):
        return None
    try:
        if types[0] is bool:
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if types[0] in (int, float):
            value = int(text) if lowered.lstrip("-").isdigit() else float(text)
            return check(name, value, source)
        if int in types and lowered.isdigit():
            return check(name, int(text), source)
    except ValueError:
        raise ConfigError(
            "%s: %s must be %s, got %s" % (source, name, _type_name(types), _shown(name, text))
        ) from None
    return check(name, text, source)
