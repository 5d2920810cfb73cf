"""Loads the user's settings over config_base's defaults, checks them, and stores them in config.

Sources, later ones winning: config_base, then the config file (`--config PATH` on the command
line, else the PYSMARTNODE_CONFIG environment variable, else the module `config` on sys.path, which
is config.py beside main.py or frozen into the firmware), then one environment variable per option
(`PYSMARTNODE_MQTT_HOST=...`, unix port and CPython only). Start-up imports this module once and
drops it afterwards, so its tables cost no RAM while the node runs.
"""

import os
import sys

from pysmartnode import config
from pysmartnode.config import ConfigError
from pysmartnode.config_values import REMOVED, check, from_text, option_names

ENV_PREFIX = "PYSMARTNODE_"


def read_file(path):
    """Runs a config file and returns its options (the upper-case names it defines).

    Raises:
        ConfigError: the file is missing, is not valid Python, or raised while it ran.
    """
    return _options(_run_file(path)[0])


def _run_file(path):
    # The file's folder goes on the import path first: a config may import a module beside it
    # (secrets kept apart), and components.py is found there later
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ConfigError("config file %s cannot be read: %s" % (path, e)) from None
    folder = path[: path.rfind("/")] if "/" in path else ""
    if folder not in sys.path:
        sys.path.insert(0, folder)
    namespace = {"__file__": path, "__name__": "config"}
    try:
        exec(compile(text, path, "exec"), namespace)
    except SyntaxError as e:
        raise ConfigError(
            "config file %s%s is not valid Python: %s" % (path, _at(_error_line(e, path)), e)
        ) from None
    except Exception as e:  # its own code failed: one line with where, not a traceback
        raise ConfigError(
            "config file %s%s failed: %s: %s"
            % (path, _at(_error_line(e, path)), type(e).__name__, e)
        ) from None
    return namespace, text


def _at(line):
    return " line %d" % line if line else ""


def _error_line(e, path):
    # The line of the config file where e arose: CPython has the traceback, MicroPython only
    # prints it (File "path", line N)
    if isinstance(e, SyntaxError) and getattr(e, "lineno", None):
        return e.lineno
    tb = getattr(e, "__traceback__", None)
    if tb is not None:
        line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == path:
                line = tb.tb_lineno
            tb = tb.tb_next
        return line
    try:
        import io

        buf = io.StringIO()
        sys.print_exception(e, buf)
        text = buf.getvalue()
    except (ImportError, AttributeError):
        return None
    mark = 'File "%s", line ' % path
    line, at = None, text.find(mark)
    while at >= 0:
        digits = text[at + len(mark) :].split(",")[0].split("\n")[0]
        line = int(digits) if digits.isdigit() else line
        at = text.find(mark, at + 1)
    return line


def _assignments(text):
    # name -> line of its last top-level assignment (`NAME = ...`), to point errors at. The name
    # is checked as bytes: indexing or iterating a str interns each character as a qstr on
    # MicroPython, kept in the heap for good (one pool entry per letter of every option)
    found = {}
    for number, line in enumerate(text.split("\n"), 1):
        at = line.find("=")
        name = line[:at].rstrip()
        if at > 0 and name and line[at + 1 : at + 2] != "=" and _is_name(name.encode()):
            found[name] = number
    return found


def _is_name(raw):
    for b in raw:  # [A-Za-z0-9_]
        if not (b == 95 or 48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122):
            return False
    return True


def _options(namespace):
    return {k: v for k, v in namespace.items() if k.isupper() and not k.startswith("_")}


def _find_config():
    # config.py on the import path (beside main.py; the root of a board), as `import config`
    # would find it, so that it runs as a file: errors then name the file and the line
    for folder in sys.path:
        if folder.startswith(".frozen"):
            continue
        path = folder + "/config.py" if folder else "config.py"
        try:
            os.stat(path)
            return path
        except OSError:
            pass
    return None


def _import_config():
    # A config frozen into the firmware or shipped as config.mpy: no file to run. None if none
    try:
        import config as user_config
    except ImportError as e:
        if str(e).endswith("'config'") or str(e) == "no module named 'config'":
            return None, {}
        raise ConfigError("config failed: %s" % e) from None
    except SyntaxError as e:
        raise ConfigError("config is not valid Python: %s" % e) from None
    except Exception as e:  # its own code failed: one line, not a traceback
        raise ConfigError("config failed: %s: %s" % (type(e).__name__, e)) from None
    path = getattr(user_config, "__file__", "config")
    namespace = dict(user_config.__dict__)
    del sys.modules["config"]
    return path, namespace


_ARGUMENTS = "--config PATH, --demo, --help"


def parse_args(argv):
    """The command line: (config file or None, demo).

    Raises:
        ConfigError: an argument that is not one of --config PATH, --demo, --help.
    """
    path, demo, i = None, False, 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--config":
            if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                raise ConfigError("--config needs a file path, e.g. --config node/config.py")
            path = argv[i + 1]
            i += 1
        elif arg.startswith("--config="):
            path = arg[9:]
        elif arg == "--demo":
            demo = True
        elif arg not in ("-h", "--help"):
            raise ConfigError(
                "unknown argument %r; the valid ones: %s (main.py --help)" % (arg, _ARGUMENTS)
            )
        i += 1
    if demo and path:
        raise ConfigError("--demo runs the demo with its own settings: leave out --config")
    return path, demo


def config_path(argv):
    """The config file named by `--config PATH` in argv or by PYSMARTNODE_CONFIG, else None."""
    path, demo = parse_args(argv)
    if demo:
        return None
    getenv = getattr(os, "getenv", None)  # boards have no environment
    return path or (getenv and getenv(ENV_PREFIX + "CONFIG")) or None


def _environ():
    # The whole environment, so a mistyped variable is reported: CPython has os.environ; the
    # unix port has only getenv(), but Linux lists a process's environment in /proc. None
    # where it cannot be listed (boards have no environment; the unix port off Linux)
    environ = getattr(os, "environ", None)
    if environ is not None:
        return environ
    try:
        with open("/proc/self/environ", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    # Found in place: no list of every variable and no bytes object for the others' entries
    # (a stale pointer on the C stack kept a few of those for the node's life)
    found, mark, start = {}, ENV_PREFIX.encode(), 0
    while start < len(raw):
        end = raw.find(b"\0", start)
        end = len(raw) if end < 0 else end
        equals = raw.find(b"=", start, end)
        if equals > 0 and raw.startswith(mark, start):
            found[raw[start:equals].decode()] = raw[equals + 1 : end].decode()
        start = end + 1
    return found


def _environment(source, errors):
    found = {}
    environ = _environ()
    if environ is not None:
        for key in environ:
            if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "CONFIG":
                name = key[len(ENV_PREFIX) :]
                try:
                    found[name] = from_text(name, environ[key], source % key)
                except ConfigError as e:
                    errors.append(str(e))
    elif hasattr(os, "getenv"):
        for name in option_names():
            text = os.getenv(ENV_PREFIX + name)
            if text is not None:
                try:
                    found[name] = from_text(name, text, source % (ENV_PREFIX + name))
                except ConfigError as e:
                    errors.append(str(e))
    return found


def _case_errors(namespace, lines, source):
    # `mqtt_host = ...` would be ignored (only upper-case names are options): say so
    names = option_names()
    found = []
    for key in namespace:
        upper = key.upper()
        if key != upper and not key.startswith("_") and (upper in names or upper in REMOVED):
            line = lines.get(key, 0)
            found.append(
                (
                    line,
                    "%s%s: option names are upper case: %s, not %s"
                    % (source, _at(line), upper, key),
                )
            )
    return found


def load(argv=()):
    """Loads the settings into pysmartnode.config.

    Every problem of the file and the environment is reported at once, one per line, each with
    the file's name and the line of the option.

    Returns:
        (path, options): the config file used (None if there was none) and the names the user set.

    Raises:
        ConfigError: a missing or broken config file, an unknown option, a wrong type.
    """
    path = config_path(argv)
    if "--demo" in argv:  # the demo has its own settings, whatever config.py says
        namespace, lines = {}, {}
    else:
        path = path or _find_config()
        if path:
            namespace, text = _run_file(path)
            lines = _assignments(text)
        else:
            path, namespace = _import_config()
            lines = {}
    source = path or "config"
    options = _options(namespace)
    found = _case_errors(namespace, lines, source)
    for name in options:
        line = lines.get(name, 0)
        try:
            options[name] = check(name, options[name], source + _at(line))
        except ConfigError as e:
            found.append((line, str(e)))
    found.sort()  # by line: MicroPython's dicts keep no order
    errors = [message for _, message in found]
    options.update(_environment("environment variable %s", errors))
    for name in options:
        setattr(config, name, options[name])
    if config.MQTT_PASSWORD and not config.MQTT_USER:
        errors.append(
            "%s: MQTT_PASSWORD is set but MQTT_USER is not: MQTT sends no password without a "
            "user name; set MQTT_USER" % source
        )
    if config.MQTT_TLS and "MQTT_PORT" not in options:
        config.MQTT_PORT = 8883  # MQTT over TLS has its own port
    if errors:
        raise ConfigError("\n".join(errors))
    return path, options
