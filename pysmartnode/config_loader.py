"""Loads the user's settings over config_base's defaults, checks them, and stores them in config.

Sources, later ones winning: config_base, then the config file (`--config PATH` on the command
line, else the PYSMARTNODE_CONFIG environment variable, else the module `config` on sys.path, which
is config.py beside main.py or frozen into the firmware), then one environment variable per option
(`PYSMARTNODE_MQTT_HOST=...`, unix port and CPython only). Start-up imports this module once and
drops it afterwards, so its tables cost no RAM while the node runs.
"""

import os
import sys

from pysmartnode import config, config_base
from pysmartnode.config import ConfigError

ENV_PREFIX = "PYSMARTNODE_"

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
_REMOVED = {
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
    return sorted(n for n in dir(config_base) if n.isupper() and not n.startswith("_"))


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
    if name in _REMOVED:
        return ConfigError("%s: option %s was removed: %s" % (source, name, _REMOVED[name]))
    return ConfigError(
        "%s: unknown option %s; did you mean %s? (every option is in config_example.py)"
        % (source, name, closest(name, option_names()))
    )


def _type_name(types):
    return " or ".join(t.__name__ for t in types)


def check(name, value, source):
    """Checks one option and returns its value.

    Raises:
        ConfigError: unknown name, wrong type, or a value out of range.
    """
    names = option_names()
    if name not in names:
        raise _unknown(name, source)
    default = getattr(config_base, name)
    if default is None:
        types = _NULLABLE[name]
        if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
            raise ConfigError(
                "%s: %s must be %s or None, got %r" % (source, name, _type_name(types), value)
            )
    elif isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError("%s: %s must be True or False, got %r" % (source, name, value))
    elif isinstance(default, (int, float)):
        types = (int,) if name in _WHOLE_NUMBERS else (int, float)
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(
                "%s: %s must be a number (%s), got %r" % (source, name, _type_name(types), value)
            )
    elif not isinstance(value, type(default)):
        raise ConfigError(
            "%s: %s must be %s, got %r" % (source, name, type(default).__name__, value)
        )
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
    elif name == "MQTT_CONFIG_WAIT" and value <= 0:
        problem = "seconds, more than 0"
    elif name in ("MQTT_HOME", "DEVICE_NAME", "MQTT_AVAILABILITY_SUBTOPIC") and value is not None:
        if not value or "+" in value or "#" in value or (name == "DEVICE_NAME" and "/" in value):
            problem = "a non-empty topic level without + # or /"
    if problem:
        raise ConfigError("%s: %s must be %s, got %r" % (source, name, problem, value))


def from_text(name, text, source):
    """Converts an environment variable's text to the option's type, then checks it."""
    if name not in option_names():
        raise _unknown(name, source)
    default = getattr(config_base, name)
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
            "%s: %s must be %s, got %r" % (source, name, _type_name(types), text)
        ) from None
    return check(name, text, source)


def read_file(path):
    """Runs a config file and returns its options (the upper-case names it defines).

    Raises:
        ConfigError: the file is missing or is not valid Python.
    """
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ConfigError("config file %s cannot be read: %s" % (path, e)) from None
    namespace = {"__file__": path, "__name__": "config"}
    try:
        exec(text, namespace)
    except SyntaxError as e:
        where = (" line %s" % e.lineno) if getattr(e, "lineno", None) else ""
        raise ConfigError("config file %s%s is not valid Python: %s" % (path, where, e)) from None
    except Exception as e:
        raise ConfigError("config file %s failed: %s: %s" % (path, type(e).__name__, e)) from None
    return _options(namespace)


def _options(namespace):
    return {k: v for k, v in namespace.items() if k.isupper() and not k.startswith("_")}


def _import_config():
    # The module `config` on sys.path: config.py beside main.py, or frozen. None if there is none.
    try:
        import config as user_config
    except ImportError as e:
        if str(e).endswith("'config'"):
            return None, {}
        raise ConfigError("config.py failed: %s" % e) from None
    except SyntaxError as e:
        raise ConfigError("config.py is not valid Python: %s" % e) from None
    path = getattr(user_config, "__file__", "config.py")
    options = _options(user_config.__dict__)
    del sys.modules["config"]
    return path, options


def config_path(argv):
    """The config file named by `--config PATH` in argv or by PYSMARTNODE_CONFIG, else None."""
    for i, arg in enumerate(argv):
        if arg == "--config":
            if i + 1 >= len(argv):
                raise ConfigError("--config needs a file path, e.g. --config node/config.py")
            return argv[i + 1]
        if arg.startswith("--config="):
            return arg[9:]
    getenv = getattr(os, "getenv", None)  # boards have no environment
    return (getenv and getenv(ENV_PREFIX + "CONFIG")) or None


def _environment(source):
    # CPython can list the environment, so a mistyped variable is reported; the unix port
    # can only look up each option by name
    found = {}
    environ = getattr(os, "environ", None)
    if environ is not None:
        for key, text in environ.items():
            if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "CONFIG":
                name = key[len(ENV_PREFIX) :]
                found[name] = from_text(name, text, source % key)
    elif hasattr(os, "getenv"):
        for name in option_names():
            text = os.getenv(ENV_PREFIX + name)
            if text is not None:
                found[name] = from_text(name, text, source % (ENV_PREFIX + name))
    return found


def load(argv=()):
    """Loads the settings into pysmartnode.config.

    Returns:
        (path, options): the config file used (None if there was none) and the names the user set.

    Raises:
        ConfigError: a missing or broken config file, an unknown option, a wrong type.
    """
    path = config_path(argv)
    if path:
        options = read_file(path)
    else:
        path, options = _import_config()
    source = path or "config"
    for name in options:
        options[name] = check(name, options[name], source)
    options.update(_environment("environment variable %s"))
    for name in options:
        setattr(config, name, options[name])
    return path, options
