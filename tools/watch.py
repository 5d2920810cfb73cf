#!/usr/bin/env python3
"""Watch a node: print every topic and payload under it, and ask it for its status.

    python3 tools/watch.py -p 1883 --home home demo     one node: its topics and its log
    python3 tools/watch.py -p 1883                      everything under home/
    python3 tools/watch.py -p 1883 --status demo        ask for `status now` once connected

While it runs, a line `now` (or `status`) on its input asks the node for its status again;
Ctrl-C ends it. It needs nothing but Python 3.10+ and this checkout: it speaks MQTT through the
project's own client (external_modules/mqtt_as). mosquitto_sub/mosquitto_pub (Debian's
mosquitto-clients) do the same job.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
if (_ROOT / "external_modules" / "mqtt_as").is_dir():
    sys.path.insert(0, str(_ROOT / "external_modules"))

from mqtt_as import MQTTClient  # noqa: E402
from mqtt_as import config as client_defaults  # noqa: E402

_STATUS_WORDS = ("now", "status", "s")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="watch.py", description="Print every topic and payload under a node."
    )
    parser.add_argument(
        "device", nargs="?", help="the node's id (DEVICE_NAME); all nodes if left out"
    )
    parser.add_argument("-H", "--host", default="127.0.0.1", help="broker (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=1883, help="broker port (default 1883)")
    parser.add_argument("--home", default="home", help="MQTT_HOME of the node (default home)")
    parser.add_argument("--user", default="", help="MQTT user name, if the broker wants one")
    parser.add_argument(
        "--password-env",
        metavar="VAR",
        help="the environment variable holding the MQTT password (never on the command line)",
    )
    parser.add_argument("--status", action="store_true", help="ask the node for its status once")
    args = parser.parse_args(argv)
    if args.status and not args.device:
        parser.error("--status needs the node's id: watch.py --status DEVICE")
    return args


def _filters(args: argparse.Namespace) -> list[str]:
    if args.device is None:
        return [f"{args.home}/#"]
    return [f"{args.home}/{args.device}/#", f"{args.home}/log/+/{args.device}"]


def _show(topic: bytes, msg: bytes, retained: bool) -> None:
    text = bytes(msg).decode("utf-8", "replace")
    print(f"{bytes(topic).decode('utf-8', 'replace')} {text}{'  (retained)' if retained else ''}")
    sys.stdout.flush()


def _read_input(loop: asyncio.AbstractEventLoop, requests: asyncio.Queue) -> None:
    # A daemon thread: a blocked read must not keep the watcher from ending
    for line in sys.stdin:
        loop.call_soon_threadsafe(requests.put_nowait, line.strip().lower())


async def watch(args: argparse.Namespace) -> int:
    import os

    password = os.environ.get(args.password_env, "") if args.password_env else ""
    settings = dict(client_defaults)
    settings.update(
        server=args.host,
        port=args.port,
        user=args.user,
        password=password,
        subs_cb=_show,
        client_id=f"watch-{os.getpid()}",
        log=lambda level, msg: print(f"watch: {msg}", file=sys.stderr),
    )
    client = MQTTClient(settings)
    try:
        await client.connect()
    except OSError as e:
        print(f"watch: cannot reach the broker at {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    for topic_filter in _filters(args):
        await client.subscribe(topic_filter, qos=1)
    print(f"watch: connected to {args.host}:{args.port}, watching {' and '.join(_filters(args))}")
    if args.device:
        print("watch: type `now` and Enter for the node's status; Ctrl-C ends")
    sys.stdout.flush()
    status_topic = f"{args.home}/{args.device}/status/set"
    requests: asyncio.Queue = asyncio.Queue()
    if args.status:
        requests.put_nowait("now")
    if args.device and sys.stdin is not None:
        loop = asyncio.get_running_loop()
        threading.Thread(target=_read_input, args=(loop, requests), daemon=True).start()
    try:
        while True:
            word = await requests.get()
            if word in _STATUS_WORDS and args.device:
                await client.publish(status_topic, "now", qos=1)
                print(f"watch: asked for the status ({status_topic} now)")
            elif word:
                print(f"watch: unknown command {word!r}; `now` asks for the status")
            sys.stdout.flush()
    finally:
        try:
            await asyncio.wait_for(client.disconnect(), 2)
        except (OSError, asyncio.TimeoutError):
            pass
        client.close()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        return asyncio.run(watch(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
