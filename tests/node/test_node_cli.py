"""The command line and the config file as a new user meets them, on both runtimes: strict
arguments, every error of a file at once with its line, secrets never shown, and the files
beside the config (components.py, modules it imports) found however the path was written."""

import re
import signal
import socket
from pathlib import Path

import pytest
from harness import REPO, import_roots

APPS = Path(__file__).parent / "apps"
NODES = Path(__file__).parent / "nodes"
CONFIG_ERROR = "pysmartnode: config error: "


def config_lines(proc):
    return [line for line in proc.output().splitlines() if line.startswith(CONFIG_ERROR)]


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("args", [["--cfg", "x.py"], ["x.py"], ["--config", "c.py", "--verbose"]])
def test_unknown_argument_is_an_error_naming_the_valid_ones(runtime, run_py, tmp_path, args):
    (tmp_path / "c.py").write_text("MQTT_HOST = '127.0.0.1'\n")
    proc = run_py(runtime, REPO / "main.py", *args, cwd=tmp_path)
    assert proc.wait(timeout=20) == 2
    (line,) = config_lines(proc)
    bad = next(a for a in args if a not in ("--config", "c.py"))
    assert f"unknown argument '{bad}'" in line
    assert "--config PATH, --demo, --help" in line


@pytest.mark.parametrize("spelling", ["config.py", "./config.py"], ids=["bare", "dotted"])
def test_config_finds_components_and_its_own_modules_beside_it(runtime, run_py, tmp_path, spelling):
    (tmp_path / "config.py").write_text(
        f"from node_secrets import broker\nMQTT_HOST = broker\nMQTT_PORT = {closed_port()}\n"
        "RTC_SYNC_ACTIVE = False\n"
    )
    (tmp_path / "node_secrets.py").write_text("broker = '127.0.0.1'\n")
    (tmp_path / "components.py").write_text("print('components.py beside the config ran')\n")
    proc = run_py(runtime, REPO / "main.py", "--config", spelling, cwd=tmp_path)
    proc.wait_line("components.py beside the config ran", timeout=20)


def test_config_raising_at_run_time_is_one_line_with_its_line_number(runtime, run_py, tmp_path):
    path = tmp_path / "kitchen.py"
    path.write_text("MQTT_HOST = 'x'\n\nMQTT_PORT = PORT_FROM_NOWHERE\n")
    proc = run_py(runtime, REPO / "main.py", "--config", str(path))
    assert proc.wait(timeout=20) == 2
    (line,) = config_lines(proc)
    assert f"{path} line 3 failed: NameError" in line
    assert "Traceback" not in proc.output()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MQTT_HOST = 'x'\nMQTT_HSOT = 'y'\n", "config.py line 2: unknown option MQTT_HSOT"),
        ("MQTT_HOST = 'x'\nMQTT_PORT = PORT\n", "config.py line 2 failed: NameError"),
    ],
    ids=["unknown-option", "raises"],
)
def test_config_on_the_import_path_is_reported_by_its_real_name(
    runtime, run_py, tmp_path, text, expected
):
    # config.py found as `import config` would find it (here: on the import path, as beside
    # main.py): its errors name that file and the line, and a raise is one line too
    (tmp_path / "config.py").write_text(text)
    roots = [str(tmp_path), *import_roots()]
    env = {"PYTHONPATH": ":".join(roots), "MICROPYPATH": ":".join([".frozen", *roots])}
    proc = run_py(runtime, REPO / "main.py", env=env, cwd=tmp_path.parent)
    assert proc.wait(timeout=20) == 2
    (line,) = config_lines(proc)
    assert f"{tmp_path}/{expected}" in line
    assert "Traceback" not in proc.output()


BROKEN = """MQTT_HOST = "broker.lan"
mqtt_port = 1884
MQTT_HSOT = "x"
WIFI_PASSPHRASE = 31415926
DEBUG = 3
MQTT_PASSWORD = "271828"
"""


def test_every_config_error_of_a_file_is_reported_at_once_with_its_line(runtime, run_py, tmp_path):
    path = tmp_path / "kitchen.py"
    path.write_text(BROKEN)
    proc = run_py(runtime, REPO / "main.py", "--config", str(path))
    assert proc.wait(timeout=20) == 2
    lines = config_lines(proc)
    expected = [
        f"{path} line 2: option names are upper case: MQTT_PORT, not mqtt_port",
        f"{path} line 3: unknown option MQTT_HSOT; did you mean MQTT_HOST?",
        f"{path} line 4: WIFI_PASSPHRASE must be str, got int (value hidden)",
        f"{path} line 5: DEBUG must be True or False, got 3",
        f"{path}: MQTT_PASSWORD is set but MQTT_USER is not",
    ]
    assert len(lines) == len(expected), proc.output()
    for line, start in zip(lines, expected, strict=True):
        assert line[len(CONFIG_ERROR) :].startswith(start)
    assert "Traceback" not in proc.output()


def test_secrets_are_never_shown_in_config_errors(runtime, run_py, tmp_path):
    path = tmp_path / "c.py"
    path.write_text("MQTT_HOST = 'x'\nMQTT_USER = 'u'\nMQTT_PASSWORD = 31415926\n")
    env = {"PYSMARTNODE_WIFI_PASSPHRASE": "", "PYSMARTNODE_MQTT_PORT": "27182818x"}
    proc = run_py(runtime, REPO / "main.py", "--config", str(path), env=env)
    assert proc.wait(timeout=20) == 2
    assert "MQTT_PASSWORD must be str, got int (value hidden)" in proc.output()
    assert "31415926" not in proc.output()
    assert "'27182818x'" in proc.output()  # what is no secret is shown


def test_mistyped_environment_variable_is_an_error_on_both_runtimes(runtime, run_py, tmp_path):
    path = tmp_path / "c.py"
    path.write_text("MQTT_HOST = 'x'\n")
    env = {"PYSMARTNODE_MQTT_HOTS": "broker.lan"}
    proc = run_py(runtime, REPO / "main.py", "--config", str(path), env=env)
    assert proc.wait(timeout=20) == 2
    (line,) = config_lines(proc)
    assert "PYSMARTNODE_MQTT_HOTS: unknown option MQTT_HOTS; did you mean MQTT_HOST?" in line


@pytest.mark.parametrize(
    ("text", "port"),
    [
        ("MQTT_TLS = True\n", 8883),
        ("MQTT_TLS = True\nMQTT_PORT = 1883\n", 1883),
        ("MQTT_TLS = False\n", 1883),
    ],
    ids=["tls-default", "tls-own-port", "plain-default"],
)
def test_default_port_follows_tls(runtime, run_py, tmp_path, text, port):
    path = tmp_path / "c.py"
    path.write_text("MQTT_HOST = 'broker.lan'\n" + text)
    proc = run_py(runtime, APPS / "config_check.py", "--config", str(path))
    assert proc.wait(timeout=20) == 0
    assert f"port {port}" in proc.output().splitlines()


@pytest.mark.skipif((REPO / "config.py").exists(), reason="a config.py in the repo root")
def test_micropython_node_without_config_says_so(run_py, tmp_path):
    proc = run_py("micropython", REPO / "main.py", cwd=tmp_path)
    assert proc.wait(timeout=20) == 2
    (line,) = config_lines(proc)
    assert "no config.py found and MQTT_HOST is not set" in line


def test_refused_login_names_the_options_to_check(runtime, mosquitto_auth, start_node):
    node = start_node(runtime, mosquitto_auth, MQTT_USER="node", MQTT_PASSWORD="wrong-secret")
    line = node.proc.wait_line("refused", timeout=15)
    assert re.search(r"\(code [45]\); check MQTT_USER and MQTT_PASSWORD", line), line
    assert "wrong-secret" not in node.proc.output()


def test_ctrl_c_ends_user_tasks_before_the_mqtt_handle_goes(runtime, mosquitto, start_node, observer):  # fmt: skip
    # Three tasks of components.py publish through node.mqtt all the time; a stop that takes
    # the handle away first makes them fail with AttributeError: 'NoneType' (every run, when
    # the tasks are this busy)
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_node(runtime, mosquitto, components="busy_user")
    obs.wait_message(node.topic("busy/c"), timeout=15)
    node.proc.send_signal(signal.SIGINT)  # in the start-up burst: on the wheel see below
    assert node.proc.wait_after_ctrl_c(timeout=15) == 0
    assert "Error" not in node.proc.output()
    assert obs.wait_message(node.topic("available"), b"offline", timeout=10)


@pytest.mark.xdist_group("demo-ports")  # the demo probes 8080
def test_demo_without_amqtt_is_a_config_error(run_py, tmp_path):
    # amqtt made unimportable (None in sys.modules), then the real main.py runs as __main__
    main = REPO / "main.py"
    (tmp_path / "no_amqtt.py").write_text(
        "import sys\nsys.modules['amqtt'] = None\n"
        f"sys.argv = [{str(main)!r}, '--demo']\n"
        f"exec(compile(open({str(main)!r}).read(), {str(main)!r}, 'exec'), "
        f"{{'__name__': '__main__', '__file__': {str(main)!r}}})\n"
    )
    proc = run_py("cpython", tmp_path / "no_amqtt.py", cwd=tmp_path)
    assert proc.wait(timeout=20) == 2
    (line,) = config_lines(proc)
    assert "the embedded broker needs amqtt" in line
    assert "Traceback" not in proc.output()
    assert not (tmp_path / "reset_reason.txt").exists()


def test_help_lists_the_arguments(runtime, run_py, tmp_path):
    proc = run_py(runtime, REPO / "main.py", "--help", cwd=tmp_path)
    assert proc.wait(timeout=20) == 0
    assert "--config PATH" in proc.output() and "--demo" in proc.output()
