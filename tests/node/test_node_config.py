"""Settings: defaults, overrides, and clear errors for bad config files, names, types and values."""

import importlib
import sys

import pytest
from harness import REPO

sys.path.insert(0, str(REPO / "external_modules"))


def _forget_config():
    import pysmartnode

    for name in ("config", "config_loader", "config_values"):
        sys.modules.pop("pysmartnode." + name, None)
        pysmartnode.__dict__.pop(name, None)


@pytest.fixture
def loader():
    """A fresh config_loader with config reset to its defaults."""
    _forget_config()
    yield importlib.import_module("pysmartnode.config_loader")
    _forget_config()


@pytest.fixture
def clean_env(monkeypatch):
    for key in [k for k in __import__("os").environ if k.startswith("PYSMARTNODE_")]:
        monkeypatch.delenv(key)
    return monkeypatch


def write(tmp_path, text):
    path = tmp_path / "config.py"
    path.write_text(text)
    return str(path)


def test_config_file_overrides_only_the_options_it_names(loader, clean_env, tmp_path):
    path = write(tmp_path, 'MQTT_HOST = "broker.lan"\nMQTT_PORT = 1884\n')
    loader.load(["--config", path])
    config = sys.modules["pysmartnode.config"]
    assert (config.MQTT_HOST, config.MQTT_PORT, config.MQTT_HOME) == ("broker.lan", 1884, "home")


def test_config_module_holds_only_the_options_set_and_answers_the_rest_with_defaults(
    loader, clean_env, tmp_path
):
    # On MicroPython every name of the module is a slot of its table for good: the defaults
    # are answered from config_base.DEFAULTS (one constant), not copied in
    loader.load(["--config", write(tmp_path, 'MQTT_HOST = "broker.lan"\n')])
    config = sys.modules["pysmartnode.config"]
    settings = sorted(n for n in vars(config) if n.isupper() and not n.startswith("_"))
    assert settings == ["MQTT_HOST"]
    assert (config.MQTT_HOST, config.MQTT_HOME, config.DEVICE_NAME) == ("broker.lan", "home", None)
    with pytest.raises(AttributeError):
        getattr(config, "NOT_AN_OPTION")  # noqa: B009  (an attribute read, as any module does)


def test_environment_variable_overrides_the_config_file(loader, clean_env, tmp_path):
    path = write(tmp_path, 'MQTT_HOST = "broker.lan"\nDEBUG = False\n')
    clean_env.setenv("PYSMARTNODE_MQTT_HOST", "other.lan")
    clean_env.setenv("PYSMARTNODE_DEBUG", "yes")
    clean_env.setenv("PYSMARTNODE_WIFI_LED", "2")
    loader.load(["--config", path])
    config = sys.modules["pysmartnode.config"]
    assert (config.MQTT_HOST, config.DEBUG, config.WIFI_LED) == ("other.lan", True, 2)


def test_config_path_may_come_from_the_environment(loader, clean_env, tmp_path):
    clean_env.setenv("PYSMARTNODE_CONFIG", write(tmp_path, 'MQTT_HOST = "env.lan"\n'))
    path, _ = loader.load([])
    assert path.endswith("config.py")
    assert sys.modules["pysmartnode.config"].MQTT_HOST == "env.lan"


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("MQTT_HSOT", "did you mean MQTT_HOST?"),
        ("INTERVAL_SENSOR_PUBLISH_", "did you mean INTERVAL_SENSOR_PUBLISH?"),
        ("DEVICENAME", "did you mean DEVICE_NAME?"),
        ("LIGTWEIGHT_LOG", "was removed"),
    ],
    ids=["swapped-letters", "extra-char", "missing-underscore", "removed-option"],
)
def test_unknown_option_names_the_closest_valid_one(loader, tmp_path, name, suggestion):
    path = write(tmp_path, f"{name} = 1\n")
    with pytest.raises(ValueError, match=suggestion) as info:
        loader.load(["--config", path])
    assert name in str(info.value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('MQTT_PORT = "1883"', "MQTT_PORT must be a number"),
        ("MQTT_PORT = 1883.5", "MQTT_PORT must be a number \\(int\\)"),
        ("DEBUG = 1", "DEBUG must be True or False"),
        ("MQTT_HOST = 5", "MQTT_HOST must be str"),
        ("DEVICE_NAME = 5", "DEVICE_NAME must be str or None"),
        ("MQTT_PORT = 70000", "a TCP port"),
        ("DEVICE_NAME = 'a/b'", "without \\+ # or /"),
        ("INTERVAL_SENSOR_READ = 0", "more than 0"),
    ],
    ids=[
        "str-for-int",
        "float-for-int",
        "int-for-bool",
        "int-for-str",
        "int-for-nullable",
        "port-range",
        "slash-in-name",
        "zero-interval",
    ],  # fmt: skip
)
def test_wrong_type_or_value_is_a_clear_error(loader, tmp_path, line, expected):
    with pytest.raises(ValueError, match=expected):
        loader.load(["--config", write(tmp_path, line + "\n")])


def test_unknown_environment_variable_names_the_closest_option(loader, clean_env):
    clean_env.setenv("PYSMARTNODE_MQTT_HOTS", "x")
    with pytest.raises(ValueError, match="PYSMARTNODE_MQTT_HOTS.*did you mean MQTT_HOST"):
        loader.load([])


def test_config_example_sets_every_option_with_its_default_type(loader, clean_env):
    options = loader.read_file(str(REPO / "config_example.py"))
    assert sorted(options) == loader.option_names()
    for name, value in options.items():
        loader.check(name, value, "config_example.py")


# The node itself, as a process, on both runtimes


def test_missing_config_file_stops_the_node_with_a_clear_error(runtime, run_py, tmp_path):
    proc = run_py(runtime, REPO / "main.py", "--config", str(tmp_path / "nope.py"))
    assert proc.wait(timeout=20) == 2
    assert "cannot be read" in proc.output() and "nope.py" in proc.output()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MQTT_HOST = (\n", "is not valid Python"),
        ("MQTT_HOST = 'x'\nLIGTWEIGHT_LOG = True\n", "LIGTWEIGHT_LOG was removed"),
        ("MQTT_HOST = 'x'\nMQTT_HSOT = 'y'\n", "did you mean MQTT_HOST?"),
        ("MQTT_HOST = 'x'\nMQTT_KEEPALIVE = 'long'\n", "MQTT_KEEPALIVE must be a number"),
        ("MQTT_HOST = undefined_name\n", "NameError"),
    ],
    ids=["garbled", "removed-option", "typo", "wrong-type", "raises"],
)
def test_bad_config_file_stops_the_node_with_a_clear_error(
    runtime, run_py, tmp_path, text, expected
):
    proc = run_py(runtime, REPO / "main.py", "--config", write(tmp_path, text))
    assert proc.wait(timeout=20) == 2
    assert expected in proc.output()
    assert "Traceback" not in proc.output()
