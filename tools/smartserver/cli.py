"""The `smartserver` command: check, serve, status, logs, secret."""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

from smartserver import __version__
from smartserver import folder as folders

_ENV_MQTT_PASSWORD = "SMARTSERVER_MQTT_PASSWORD"
_ENV_HTTP_PASSWORD = "SMARTSERVER_HTTP_PASSWORD"


def _common(p: argparse.ArgumentParser, store: bool = True, config: bool = True) -> None:
    if config:
        p.add_argument(
            "-c", "--config-dir", default="configs", help="the config folder (default: configs)"
        )
        p.add_argument(
            "--allow-package",
            action="append",
            metavar="PREFIX",
            help="a package prefix remote configs may use (repeatable;"
            " default: pysmartnode.components.)",
        )
    if store:
        p.add_argument(
            "--store", default="smartserver.db", help="the SQLite store (default: smartserver.db)"
        )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="smartserver",
        description="Configs as code, logs and a fleet table for pysmartnode nodes.",
    )
    p.add_argument("--version", action="version", version=f"smartserver {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="check every device config of the folder; exit 1 on errors")
    _common(c, store=False)

    s = sub.add_parser("serve", help="answer logins, collect logs, track the fleet, web page")
    _common(s)
    s.add_argument("--broker", default="127.0.0.1:1883", help="HOST[:PORT] of the MQTT broker")
    s.add_argument("--user", help="MQTT user name")
    s.add_argument("--password", help=f"MQTT password (better: ${_ENV_MQTT_PASSWORD})")
    s.add_argument("--tls-ca", help="CA file: connect with TLS and check the broker against it")
    s.add_argument("--home", default="home", help="MQTT_HOME of the nodes (default: home)")
    s.add_argument(
        "--http",
        default="127.0.0.1:8080",
        help="HOST:PORT of the web page (default 127.0.0.1:8080; 'off' for none)",
    )
    s.add_argument("--http-password", help=f"web page password (better: ${_ENV_HTTP_PASSWORD})")
    s.add_argument("--poll", type=float, default=1.0, help="seconds between folder scans")
    s.add_argument("--log-days", type=float, default=30.0, help="keep log lines this many days")
    s.add_argument(
        "--log-rows", type=int, default=20000, help="keep at most this many lines per device"
    )
    s.add_argument("-v", "--verbose", action="store_true")

    st = sub.add_parser("status", help="the fleet table")
    _common(st)
    st.add_argument("filter", nargs="?", help="only devices whose id or name contains this")
    st.add_argument("--state", choices=("online", "offline", "lost", "unknown"))
    st.add_argument("--drift", action="store_true", help="only devices not running the folder's")
    st.add_argument("--errors", action="store_true", help="only devices with a last error")
    st.add_argument("--json", action="store_true", help="JSON instead of a table")

    lg = sub.add_parser("logs", help="search the collected log lines (newest first)")
    _common(lg, config=False)
    lg.add_argument("--device")
    lg.add_argument("--level", choices=("critical", "error", "warn", "info", "debug"))
    lg.add_argument("--grep", help="only lines containing this text")
    lg.add_argument("-n", "--limit", type=int, default=50)

    se = sub.add_parser("secret", help="make (or show) the signing secret of a device")
    _common(se, config=False)
    se.add_argument("device")
    se.add_argument("--set", metavar="SECRET", help="use this secret instead of a new random one")
    se.add_argument("--rotate", action="store_true", help="replace an existing secret")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return globals()["_cmd_" + args.command](args)
    except KeyboardInterrupt:
        return 130


def _allow(args) -> tuple[str, ...]:
    return tuple(args.allow_package) if args.allow_package else folders.DEFAULT_ALLOW


def _cmd_check(args) -> int:
    folder = folders.load(args.config_dir, _allow(args))
    for p in folder.problems:
        print(p)
    errors = len(folder.errors)
    warnings = len(folder.problems) - errors
    print(
        f"{len(folder.devices)} device(s) checked: {errors} error(s), {warnings} warning(s)",
        file=sys.stderr,
    )
    return 1 if errors else 0


def _cmd_serve(args) -> int:
    import sqlite3

    from smartserver.service import Options, SmartServer
    from smartserver.store import StoreError
    from smartserver.web import Web, WebError

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stdout,
    )
    logging.getLogger("paho").setLevel(logging.WARNING)
    host, _, port = args.broker.rpartition(":") if ":" in args.broker else (args.broker, "", "")
    opts = Options(
        config_dir=Path(args.config_dir),
        store=Path(args.store),
        host=host or args.broker,
        port=int(port or 1883),
        user=args.user,
        password=args.password or os.environ.get(_ENV_MQTT_PASSWORD),
        tls_ca=args.tls_ca,
        home=args.home,
        allow=_allow(args),
        poll=args.poll,
        log_days=args.log_days,
        log_rows=args.log_rows,
    )
    try:
        server = SmartServer(opts)
    except (sqlite3.Error, StoreError) as e:
        print(f"smartserver: cannot open the store {args.store}: {e}", file=sys.stderr)
        return 2
    web = None
    if args.http != "off":
        http_host, _, http_port = args.http.rpartition(":")
        try:
            web = Web(
                server,
                http_host or "127.0.0.1",
                int(http_port),
                args.http_password or os.environ.get(_ENV_HTTP_PASSWORD),
            )
        except (WebError, OSError) as e:
            print(f"smartserver: {e}", file=sys.stderr)
            server.store.close()
            return 2
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    server.start()
    if web:
        web.start()
    print("smartserver: serving (Ctrl-C stops)", flush=True)
    done.wait()
    if web:
        web.stop()
    server.stop()
    print("smartserver: stopped", flush=True)
    return 0


def _fmt_uptime(s) -> str:
    if s is None:
        return ""
    d, rest = divmod(int(s), 86400)
    return (f"{d}d " if d else "") + f"{rest // 3600}h{rest % 3600 // 60:02d}m"


def _cmd_status(args) -> int:
    from smartserver.service import view
    from smartserver.store import Store

    folder = folders.load(args.config_dir, _allow(args))
    rows = {}
    if Path(args.store).exists():
        store = Store(args.store)
        rows = {r["id"]: r for r in store.devices()}
        store.close()
    else:
        print(f"smartserver: no store {args.store} yet (has serve run?)", file=sys.stderr)
    for device in folder.devices:
        rows.setdefault(device, {"id": device})
    table = [view(rows[k], folder) for k in sorted(rows)]
    if args.filter:
        f = args.filter.lower()
        table = [d for d in table if f in d["id"].lower() or f in (d["name"] or "").lower()]
    if args.state:
        table = [d for d in table if d["availability"] == args.state]
    if args.drift:
        table = [d for d in table if d["drift"] != "in sync"]
    if args.errors:
        table = [d for d in table if d["last_error"]]
    if args.json:
        print(json.dumps(table, indent=1))
        return 0
    cols = [
        (
            "device",
            lambda d: d["id"] + (f" ({d['name']})" if d["name"] not in (None, d["id"]) else ""),
        ),
        ("state", lambda d: d["availability"]),
        ("version", lambda d: d["version"] or ""),
        ("platform", lambda d: d["platform"] or ""),
        ("uptime", lambda d: _fmt_uptime(d["uptime"])),
        ("ram", lambda d: "" if d["ram_free"] is None else str(d["ram_free"])),
        ("ip", lambda d: d["ip"] or ""),
        ("reset", lambda d: (d["reset_reason"] or "")[:30]),
        ("last error", lambda d: (d["last_error"] or "")[:40]),
        ("config", lambda d: d["drift"]),
        ("push", lambda d: (d["last_push"] or "")[:40]),
    ]
    cells = [[f(d) for _, f in cols] for d in table]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, (c, _) in enumerate(cols)]
    print("  ".join(c.ljust(w) for (c, _), w in zip(cols, widths, strict=True)).rstrip())
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _cmd_logs(args) -> int:
    from smartserver.store import Store

    if not Path(args.store).exists():
        print(f"smartserver: no store {args.store} (has serve run?)", file=sys.stderr)
        return 1
    store = Store(args.store)
    rows = store.logs(args.device, args.level, args.grep, args.limit)
    store.close()
    for r in rows:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["ts"]))
        who = f"[{r['logger']}] " if r["logger"] else ""
        print(f"{stamp} {r['device']} {r['level']}: {who}{r['message']}")
    return 0


def _cmd_secret(args) -> int:
    from smartserver.store import Store

    if not folders._ID.match(args.device):
        print(f"smartserver: {args.device!r} is not a device id", file=sys.stderr)
        return 2
    store = Store(args.store)
    try:
        old = store.secret(args.device)
        if old and not (args.rotate or args.set):
            print(old)
            return 0
        secret = args.set or secrets.token_hex(32)
        store.set_secret(args.device, secret)
    finally:
        store.close()
    print(secret)
    print(f'put it in the node\'s config.py: MQTT_CONFIG_SECRET = "{secret}"', file=sys.stderr)
    return 0
