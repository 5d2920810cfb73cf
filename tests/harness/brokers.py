"""Real MQTT brokers (mosquitto, amqtt) as subprocesses on free 127.0.0.1 ports.

amqtt 0.12.1 differs from mosquitto in ways tests meet:

- It never enforces keep-alive: a client that goes silent (a frozen proxy) stays connected,
  and its will is only sent once the TCP connection really closes. mosquitto drops it after
  1.5 x keep-alive (checked every few seconds) and sends the will.
- Right after CONNACK it sends a new client (clean session, no SUBSCRIBE yet) every retained
  message matching *any* client's subscription, at QoS 0 with retain set (broker.py loops
  over all subscriptions on connect).
- SIGTERM kills it at once (it only shuts down cleanly on SIGINT); a listener that cannot
  bind is logged ("Broker startup failed") but the process keeps running.
- Passwords are argon2 (or bcrypt) hashes; mosquitto_passwd's format is not accepted.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pwd
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .net import LOOPBACK, free_port, poll_until, wait_closed, wait_listening
from .procs import DIE_WITH_PARENT, reap
from .tls import TLSFiles
from .tools import missing, require_tool

KINDS = ("amqtt", "mosquitto")
AUTH_USER = "node"

_MOSQUITTO_HINT = "install it with `apt-get install mosquitto` (Debian puts it in /usr/sbin)"
_AMQTT_HINT = "install it with `pip install amqtt` (or `pip install -e .[test]`)"
_START_ATTEMPTS = 5
# What each broker logs once its listener is bound.
_READY_MARKERS = {"mosquitto": " running", "amqtt": "bind to"}
# amqtt logs this when a listener cannot bind, then keeps running without it.
_FAILED_MARKER = "Broker startup failed"


class Broker:
    """One broker process bound to ``host:port``; ``stop``/``start`` keep the same port.

    Attributes:
        kind: ``"amqtt"`` or ``"mosquitto"``.
        host: always ``"127.0.0.1"``.
        port: the TCP port (TLS on it when ``tls`` is set).
        user, password: the one account when started with ``auth=True``, else None.
        tls: the :class:`TLSFiles` a client needs to trust the broker, or None.
        log_path: the broker's log (all restarts append to it).
    """

    def __init__(
        self,
        kind: str,
        workdir: Path,
        *,
        auth: bool = False,
        tls: TLSFiles | None = None,
        extra_config: str | dict[str, Any] | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"broker kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.host = LOOPBACK
        self.port = free_port()
        self.user: str | None = AUTH_USER if auth else None
        self.password: str | None = secrets.token_urlsafe(12) if auth else None
        self.tls = tls
        self.extra_config = extra_config
        self.start_timeout = start_timeout
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        # mosquitto started as root switches to its own user; pytest's tmp dirs are 0700.
        workdir.chmod(0o755)
        self.log_path = workdir / f"{kind}.log"
        self._config_path = workdir / (f"{kind}.conf" if kind == "mosquitto" else f"{kind}.yaml")
        self._proc: subprocess.Popen | None = None
        self._started_once = False
        self._program = self._find_program()
        if auth:
            self._write_password_file()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        extras = "".join((" auth" if self.user else "", " tls" if self.tls else ""))
        return f"<Broker {self.kind} {self.host}:{self.port}{extras} {state}>"

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id while running, else None."""
        return self._proc.pid if self.running else None

    def log_text(self) -> str:
        """Everything the broker logged so far (all runs)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self) -> None:
        """Start the broker and return once it accepts TCP connections.

        The first start may move to another free port if the chosen one was taken meanwhile;
        later starts (after ``stop``) always reuse the same port.

        Raises:
            RuntimeError: the process exited (the log tail says why) or is already running.
            TimeoutError: it did not listen within ``start_timeout`` seconds.
        """
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        attempts = 1 if self._started_once else _START_ATTEMPTS
        for attempt in range(attempts):
            log_size = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._write_config()
            with open(self.log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    self._command(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.workdir,
                    preexec_fn=DIE_WITH_PARENT,
                )
            proc = self._proc
            try:
                self._wait_ready(proc, log_size)
            except (RuntimeError, TimeoutError) as e:
                reap(proc, kill=True)
                self._proc = None
                tail = self.log_text()[log_size:][-3000:]
                if "in use" in tail and attempt + 1 < attempts:
                    self.port = free_port()
                    continue
                raise type(e)(f"{self.kind} did not start on port {self.port}: {e}\n{tail}") from e
            self._started_once = True
            return

    def _wait_ready(self, proc: subprocess.Popen, log_size: int) -> None:
        # The port alone could be someone else's (free_port can race): also wait for our
        # process to log that it listens.
        marker = _READY_MARKERS[self.kind]

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"exited with status {proc.returncode}")
            text = self.log_text()[log_size:]
            if _FAILED_MARKER in text:
                raise RuntimeError("it could not start its listener")
            return marker in text

        poll_until(ready, self.start_timeout, f"{self.kind} to log {marker!r}")
        wait_listening(self.host, self.port, self.start_timeout)

    def stop(self, timeout: float = 5.0, kill: bool = False) -> None:
        """Stop the broker (SIGTERM, or SIGKILL when ``kill``) and wait until the port is closed.

        Stopping a stopped broker does nothing.
        """
        proc, self._proc = self._proc, None
        if proc is None:
            return
        reap(proc, timeout=timeout, kill=kill)
        wait_closed(self.host, self.port, timeout=timeout)

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop, stay down ``down_seconds`` (the length of the outage), start on the same port."""
        self.stop()
        if down_seconds > 0:
            time.sleep(down_seconds)
        self.start()

    # -- configuration -------------------------------------------------------------------

    def _find_program(self) -> str:
        if self.kind == "mosquitto":
            return require_tool("mosquitto", _MOSQUITTO_HINT)
        if importlib.util.find_spec("amqtt") is None:
            missing("python package 'amqtt'", _AMQTT_HINT)
        return sys.executable

    def _command(self) -> list[str]:
        if self.kind == "mosquitto":
            return [self._program, "-c", str(self._config_path)]
        # `python -m` runs the same code as the `amqtt` console script, with pytest's own
        # interpreter, so no PATH or pyenv shim is involved.
        return [self._program, "-m", "amqtt.scripts.broker_script", "-c", str(self._config_path)]

    def _write_password_file(self) -> None:
        path = self.workdir / "passwords"
        if self.kind == "mosquitto":
            tool = require_tool("mosquitto_passwd", _MOSQUITTO_HINT)
            done = subprocess.run(
                [tool, "-c", "-b", str(path), self.user, self.password],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"mosquitto_passwd failed: {done.stdout}{done.stderr}")
        else:
            from pwdlib import PasswordHash  # amqtt's own dependency
            from pwdlib.hashers.argon2 import Argon2Hasher

            hashed = PasswordHash((Argon2Hasher(),)).hash(self.password)
            path.write_text(f"{self.user}:{hashed}\n")
        path.chmod(0o644)
        self._password_file = path

    def _write_config(self) -> None:
        if self.kind == "mosquitto":
            text = self._mosquitto_config()
        else:
            text = json.dumps(self._amqtt_config(), indent=2)  # JSON is valid YAML
        self._config_path.write_text(text)

    def _mosquitto_config(self) -> str:
        lines = [
            f"listener {self.port} {self.host}",
            f"allow_anonymous {'false' if self.user else 'true'}",
            "persistence false",
            "log_dest stderr",
            "log_type all",
            "connection_messages true",
            "log_timestamp_format %H:%M:%S",
            # Started as root, mosquitto would switch to user "mosquitto", who may not read
            # pytest's tmp files; naming the current user keeps it as is (ignored if not root).
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
        ]
        if self.user:
            lines.append(f"password_file {self._password_file}")
        if self.tls:
            lines += [
                f"cafile {self.tls.ca_file}",
                f"certfile {self.tls.cert_file}",
                f"keyfile {self.tls.key_file}",
            ]
        if isinstance(self.extra_config, str):
            lines.append(self.extra_config)
        elif self.extra_config is not None:
            raise TypeError("mosquitto extra_config is config-file text (str)")
        return "\n".join(lines) + "\n"

    def _amqtt_config(self) -> dict[str, Any]:
        listener: dict[str, Any] = {"type": "tcp", "bind": f"{self.host}:{self.port}"}
        if self.tls:
            listener |= {"ssl": True, "certfile": self.tls.cert_file, "keyfile": self.tls.key_file}
        if self.user:
            auth = {"amqtt.plugins.authentication.FileAuthPlugin": {"password_file": str(self._password_file)}}  # fmt: skip
        else:
            auth = {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}
        # No BrokerSysPlugin: its $SYS publishes every 20 s are noise in these tests.
        config: dict[str, Any] = {
            "listeners": {"default": listener},
            "plugins": {"amqtt.plugins.logging_amqtt.EventLoggerPlugin": {}, **auth},
        }
        if isinstance(self.extra_config, dict):
            config = _merged(config, self.extra_config)
        elif self.extra_config is not None:
            raise TypeError("amqtt extra_config is a dict merged into the YAML config")
        return config


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out
