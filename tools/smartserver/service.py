"""`smartserver serve`: the MQTT side (logins, logs, fleet state), the folder watcher, retention.

Everything a node sends is untrusted: a message that does not follow the protocol is counted,
logged (rate-limited) and dropped; no handler can end the server.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from smartserver import folder as folders
from smartserver import protocol
from smartserver.protocol import Garbage
from smartserver.store import DEVICE_FIELDS, Store

log = logging.getLogger("smartserver")
_STOPPING_GRACE = 15.0  # s: an `offline` this soon after the node logged "stopping" was clean


@dataclass
class Options:
    config_dir: Path
    store: Path
    host: str = "127.0.0.1"
    port: int = 1883
    user: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    home: str = "home"
    allow: tuple[str, ...] = folders.DEFAULT_ALLOW
    poll: float = 1.0
    log_days: float = 30.0
    log_rows: int = 20000
    keepalive: int = 30
    extra: dict[str, Any] = field(default_factory=dict)


class Hub:
    """Fans changes out to the web page's event streams (a bounded queue per client).

    Every client gets device changes; log lines only for the one device it asked for, so a
    flood of logs cannot crowd the fleet table's updates out of its queue.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: list[tuple[queue.Queue, str | None]] = []

    def subscribe(self, logs_of: str | None = None) -> queue.Queue:
        q: queue.Queue = queue.Queue(maxsize=1000)
        with self._lock:
            self._clients.append((q, logs_of))
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._lock:
            self._clients = [c for c in self._clients if c[0] is not q]

    def publish(self, event: str, data: dict[str, Any]) -> None:
        with self._lock:
            clients = list(self._clients)
        for q, logs_of in clients:
            if event == "log" and data.get("device") != logs_of:
                continue
            try:
                q.put_nowait((event, data))
            except queue.Full:  # a stalled browser loses events, never the server
                pass


class SmartServer:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.store = Store(opts.store)
        self.hub = Hub()
        self.folder = folders.load(opts.config_dir, opts.allow)
        self._snapshot = folders.snapshot(Path(opts.config_dir))
        self._stopping: dict[str, float] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.garbage = 0
        self._garbage_window = (0.0, 0)
        self.connected = False
        self._subscribe_mid: int | None = None
        self.client = self._make_client()

    # -- life ----------------------------------------------------------------------------

    def start(self) -> None:
        self._report_folder(self.folder, None)
        dropped = self.store.prune_logs(self.opts.log_days, self.opts.log_rows)
        if dropped:
            log.info("retention: dropped %d old log lines", dropped)
        o = self.opts
        log.info("connecting to mqtt %s:%d (home %s)", o.host, o.port, o.home)
        self.client.connect_async(o.host, o.port, keepalive=o.keepalive)
        self.client.loop_start()
        for target in (self._watch, self._retention):
            t = threading.Thread(target=target, daemon=True, name=target.__name__)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        try:
            if self.connected:
                info = self.client.publish(self._server_topic(), "offline", qos=1, retain=True)
                info.wait_for_publish(2)
        except (RuntimeError, ValueError, OSError):
            pass
        self.client.disconnect()
        self.client.loop_stop()
        for t in self._threads:
            t.join(timeout=5)
        self.store.close()

    def _make_client(self) -> paho.Client:
        o = self.opts
        client_id = f"smartserver-{socket.gethostname()}"[:23]
        c = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        if o.user:
            c.username_pw_set(o.user, o.password)
        if o.tls_ca:
            c.tls_set(ca_certs=o.tls_ca)
        c.will_set(self._server_topic(), "offline", qos=1, retain=True)
        c.reconnect_delay_set(min_delay=1, max_delay=5)
        c.on_connect = self._on_connect
        c.on_subscribe = self._on_subscribe
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        return c

    def _server_topic(self) -> str:
        return f"{self.opts.home}/{protocol.SERVER_ID}/available"

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            log.error("mqtt refused the connection: %s", reason_code)
            return
        self.connected = True
        result, self._subscribe_mid = client.subscribe(
            [(t, 1) for t in protocol.subscriptions(self.opts.home)]
        )

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None) -> None:
        # Only now does the broker route the nodes' requests to us: "connected" and "online"
        # before the SUBACK would let a login request sent at that moment go unanswered
        if mid != self._subscribe_mid:
            return
        refused = [str(rc) for rc in reason_codes if rc.is_failure]
        if refused:
            log.error("mqtt refused subscriptions: %s", ", ".join(refused))
        log.info("connected to mqtt %s:%d", self.opts.host, self.opts.port)
        client.publish(self._server_topic(), "online", qos=1, retain=True)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if self.connected:
            log.warning("mqtt connection lost (%s); reconnecting", reason_code)
        self.connected = False

    # -- what nodes send -----------------------------------------------------------------

    def _on_message(self, client, userdata, msg) -> None:
        topic = "<undecodable>"
        try:
            topic = msg.topic
            kind, device, level = protocol.classify(self.opts.home, topic)
            if device == protocol.SERVER_ID:
                return
            if not folders._ID.match(device):
                raise Garbage(f"device id {device!r} is not usable")
            handler = getattr(self, "_on_" + kind)
            with self._lock:
                if kind == "log":
                    handler(device, level, msg.payload)
                else:
                    handler(device, msg.payload, msg.retain)
        except Garbage as e:
            self._garbage(topic, str(e))
        except Exception as e:  # a bug here must cost one message, never the server
            self._garbage(topic, f"{type(e).__name__}: {e}")

    def _garbage(self, topic: str, why: str) -> None:
        self.garbage += 1
        start, count = self._garbage_window
        now = time.monotonic()
        if now - start > 10:
            if count > 20:
                log.warning("%d more bad messages were not logged", count - 20)
            start, count = now, 0
        count += 1
        self._garbage_window = (start, count)
        if count <= 20:
            log.warning("dropped a bad message on %.120s: %.200s", topic, why)

    def _seen(self, device: str, **fields: Any) -> None:
        self.store.update_device(device, last_seen=time.time(), **fields)
        self.hub.publish("device", self.device_view(device))

    def _on_login(self, device: str, payload: bytes, retained: bool) -> None:
        if retained:
            raise Garbage("a retained login request (clear it: it would be answered forever)")
        try:
            req = protocol.parse_json_object(payload)
        except Garbage:
            if payload[:1] == b"[":  # the original pysmartnode's [version, platform, wait]
                raise Garbage("a login of the original, unsigned protocol; not answered") from None
            raise
        counter = protocol.int_or_none(req.get("counter")) or 0
        fields = {
            "version": protocol.str_or_none(req.get("version"), 40),
            "platform": protocol.str_or_none(req.get("platform"), 40),
        }
        running = protocol.str_or_none(req.get("hash"), 64)
        if running:
            fields["running_hash"] = running
        self._seen(device, **{k: v for k, v in fields.items() if v is not None})
        ok, why = self.send_config(device, "login", at_least=counter)
        log.info("login from %s: %s", device, why)

    def _on_available(self, device: str, payload: bytes, retained: bool) -> None:
        state = protocol.text(payload, 20)
        row = self.store.device(device) or {}
        old = row.get("availability")
        if state == "online":
            new = "online"
        elif state == "offline":
            stopped = self._stopping.pop(device, None)
            if retained:
                new = old if old in ("offline", "lost") else "offline"
            elif stopped is not None and time.monotonic() - stopped < _STOPPING_GRACE:
                new = "offline"
            else:
                new = "lost"  # the will: the node vanished without saying goodbye
        else:
            raise Garbage(f"availability {state!r} is neither online nor offline")
        fields: dict[str, Any] = {"availability": new}
        if new != old:
            fields["since"] = time.time()
            log.info("%s is %s", device, new)
        self._seen(device, **fields)

    def _on_status(self, device: str, payload: bytes, retained: bool) -> None:
        s = protocol.parse_json_object(payload)
        fields = {
            "version": protocol.str_or_none(s.get("version"), 40),
            "platform": protocol.str_or_none(s.get("platform"), 40),
            "uptime": protocol.int_or_none(s.get("uptime")),
            "ram_free": protocol.int_or_none(s.get("ram_free")),
            "ip": protocol.str_or_none(s.get("ip"), 64),
            "reconnects": protocol.int_or_none(s.get("reconnects")),
            "running_hash": protocol.str_or_none(s.get("config_hash"), 64),
            "reset_reason": protocol.str_or_none(s.get("reset_reason")),
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        # A node that says null means it: no config runs ("" shows as drift), no reason recorded
        if "config_hash" in s and s["config_hash"] is None:
            fields["running_hash"] = ""
        if "reset_reason" in s and s["reset_reason"] is None:
            fields["reset_reason"] = None
        fields["status_json"] = json.dumps(s)[:4000]
        self._seen(device, **fields)

    def _on_config(self, device: str, payload: bytes, retained: bool) -> None:
        r = protocol.parse_json_object(payload)
        counter = protocol.int_or_none(r.get("counter"))
        ok = r.get("ok") is True
        error = protocol.str_or_none(r.get("error"), 500)
        fields: dict[str, Any] = {}
        running = protocol.str_or_none(r.get("hash"), 64)
        if running:
            fields["running_hash"] = running
        elif "hash" in r and r["hash"] is None:
            fields["running_hash"] = ""  # it runs no config
        if counter is not None and not retained:
            outcome = protocol.push_outcome(r)
            self.store.set_push_outcome(device, counter, outcome, error)
            fields["last_push"] = f"{outcome}: {error}" if error else outcome
            if not ok:
                log.warning("%s: config %d %s: %s", device, counter, outcome, error)
        self._seen(device, **fields)

    def _on_log(self, device: str, level: str, payload: bytes) -> None:
        message = protocol.text(payload)
        logger, text = protocol.split_log(message)
        self.store.add_log(device, level, logger, text)
        fields: dict[str, Any] = {}
        if logger == "node":
            if text.strip() == "stopping":
                self._stopping[device] = time.monotonic()
            elif text.startswith(("last reset: ", "reset cause: ")):
                fields["reset_reason"] = text.partition(": ")[2][:200]
        if level in ("error", "critical"):
            fields["last_error"] = message[:500]
            fields["last_error_at"] = time.time()
        if fields:
            self._seen(device, **fields)
        else:
            self.store.update_device(device, last_seen=time.time())
        self.hub.publish("log", {"device": device, "level": level, "message": message})

    # -- what the server sends -----------------------------------------------------------

    def send_config(self, device: str, trigger: str, at_least: int = 0) -> tuple[bool, str]:
        """Signs and publishes the folder's config of device; (sent, why)."""
        dev = self.folder.devices.get(device)
        if dev is None:
            return False, "no config file in the folder; not answered"
        if not dev.valid:
            why = "; ".join(str(p) for p in dev.problems if p.severity == "error")
            self.store.add_push(device, trigger, None, dev.hash, "invalid", why[:1000])
            return False, "its config file is invalid, not sent: " + why
        secret = self.store.secret(device)
        if not secret:
            return False, f"no secret (run: smartserver secret {device}); not answered"
        counter = self.store.next_counter(device, at_least)
        body = protocol.config_body(device, counter, dev.components, dev.order, dev.hash)
        self.client.publish(
            f"{self.opts.home}/login/{device}", protocol.signed(secret, body), qos=1
        )
        self.store.add_push(device, trigger, counter, dev.hash, "sent")
        self.store.update_device(device, last_push=f"sent (counter {counter})")
        self.hub.publish("device", self.device_view(device))
        return True, f"config {dev.hash[:8]} sent (counter {counter})"

    def send_command(self, device: str, kind: str) -> tuple[bool, str]:
        secret = self.store.secret(device)
        if not secret:
            return False, f"no secret for {device}"
        counter = self.store.next_counter(device)
        body = protocol.command_body(device, counter, kind)
        self.client.publish(
            f"{self.opts.home}/login/{device}", protocol.signed(secret, body), qos=1
        )
        self.store.add_push(device, kind, counter, None, "sent")
        return True, f"{kind} sent (counter {counter})"

    # -- the folder ----------------------------------------------------------------------

    def _watch(self) -> None:
        path = Path(self.opts.config_dir)
        while not self._stop.wait(self.opts.poll):
            try:
                snap = folders.snapshot(path)
                if snap == self._snapshot:
                    continue
                self._snapshot = snap
                new = folders.load(path, self.opts.allow)
                with self._lock:
                    old, self.folder = self.folder, new
                    self._report_folder(new, old)
            except Exception as e:  # a watcher that dies would silently stop all pushes
                log.error("config folder watcher: %s: %s", type(e).__name__, e)

    def _report_folder(self, new: folders.Folder, old: folders.Folder | None) -> None:
        for p in new.problems:
            (log.error if p.severity == "error" else log.warning)("config: %s", p)
        for device, dev in new.devices.items():
            before = old.devices.get(device) if old else None
            changed = before is None or before.hash != dev.hash or before.valid != dev.valid
            if not dev.valid:
                why = "; ".join(str(p) for p in dev.problems if p.severity == "error")
                self.store.update_device(device, config_error=why[:1000])
                if old is not None and changed:
                    log.error("%s: changed config is invalid and is not sent", device)
                    self.store.add_push(device, "watch", None, dev.hash, "invalid", why[:1000])
            else:
                self.store.update_device(device, config_error=None)
                if old is not None and changed:
                    row = self.store.device(device) or {}
                    if row.get("availability") == "online":
                        ok, why = self.send_config(device, "watch")
                        log.info("%s: config changed: %s", device, why)
                    else:
                        log.info("%s: config changed; sent at its next login", device)
            self.hub.publish("device", self.device_view(device))

    def _retention(self) -> None:
        while not self._stop.wait(600):
            try:
                self.store.prune_logs(self.opts.log_days, self.opts.log_rows)
            except Exception as e:
                log.error("log retention: %s", e)

    # -- views ---------------------------------------------------------------------------

    def device_view(self, device: str) -> dict[str, Any]:
        return view(self.store.device(device) or {"id": device}, self.folder)

    def fleet(self) -> list[dict[str, Any]]:
        rows = {r["id"]: r for r in self.store.devices()}
        for device in self.folder.devices:
            rows.setdefault(device, {"id": device})
        return [view(rows[k], self.folder) for k in sorted(rows)]


def view(row: dict[str, Any], folder: folders.Folder) -> dict[str, Any]:
    """A device as the table shows it: its stored fields plus name and config drift."""
    out = {k: row.get(k) for k in DEVICE_FIELDS}
    out["availability"] = out["availability"] or "unknown"
    dev = folder.devices.get(row["id"])
    out["name"] = dev.name if dev else None
    out["folder_hash"] = dev.hash if dev else None
    if dev is None:
        out["drift"] = "no config"
    elif not dev.valid:
        out["drift"] = "invalid"
    elif row.get("running_hash") is None:
        out["drift"] = "unknown"
    else:
        out["drift"] = "in sync" if row["running_hash"] == dev.hash else "drift"
    return out
