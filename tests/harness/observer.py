"""A paho-mqtt client that watches the broker the way Home Assistant would."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

_FROM_TARGET: Any = object()
_log = logging.getLogger("harness.observer")


@dataclass(frozen=True)
class Msg:
    """One message the observer received.

    Attributes:
        index: its place in the observer's sequence (0, 1, ...); ``clear()`` does not reset it,
            so ``after=msg.index + 1`` always means "the ones that came after this one".
        time: ``time.monotonic()`` when it arrived.
    """

    topic: str
    payload: bytes
    qos: int
    retain: bool
    index: int
    time: float = field(compare=False)

    @property
    def text(self) -> str:
        """The payload decoded as UTF-8."""
        return self.payload.decode()

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload)


Predicate = Callable[[Msg], bool]


def _as_predicate(predicate: Predicate | bytes | str | None) -> Predicate:
    if predicate is None:
        return lambda msg: True
    if isinstance(predicate, str):
        predicate = predicate.encode()
    if isinstance(predicate, bytes):
        expected = predicate
        return lambda msg: msg.payload == expected
    return predicate


class Observer:
    """A connected paho-mqtt 2.x client (MQTT 3.1.1, clean session) recording what it receives.

    It connects to any ``target`` with ``host`` and ``port`` (a :class:`Broker`, a fault proxy)
    and takes ``user``, ``password`` and ``tls`` from it unless they are given. After a lost
    connection paho reconnects (0.1 s to 1 s apart) and the observer subscribes again.

    Waits look at every recorded message whose ``index >= after`` (``after=0``: all of them,
    so a message that arrived before the wait still counts). To wait for a *new* message,
    take ``n = obs.mark()`` before causing it and pass ``after=n``.
    """

    def __init__(
        self,
        target: Any,
        *,
        user: str | None = _FROM_TARGET,
        password: str | None = _FROM_TARGET,
        tls: Any = _FROM_TARGET,
        client_id: str | None = None,
        keepalive: int = 60,
        will: tuple[str, bytes | str, int, bool] | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self.host: str = target.host
        self.port: int = target.port
        self.user = getattr(target, "user", None) if user is _FROM_TARGET else user
        self.password = getattr(target, "password", None) if password is _FROM_TARGET else password
        self.tls = getattr(target, "tls", None) if tls is _FROM_TARGET else tls
        self.client_id = client_id or f"observer-{secrets.token_hex(4)}"
        self.disconnects: list[str] = []
        self.connects = 0
        self._messages: list[Msg] = []
        self._next_index = 0
        self._subscriptions: dict[str, int] = {}
        self._acked: dict[int, list[Any]] = {}
        self._connect_result: str | None = None
        self._connected = False
        self._cond = threading.Condition()

        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        client.enable_logger(_log)
        client.reconnect_delay_set(min_delay=0.1, max_delay=1)  # type: ignore[arg-type]
        if self.user is not None:
            client.username_pw_set(self.user, self.password)
        if self.tls is not None:
            client.tls_set(ca_certs=self.tls.ca_file)
        if will is not None:
            client.will_set(*will)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_ack
        client.on_unsubscribe = self._on_ack
        self.client = client
        self._connect(keepalive, connect_timeout)

    def __repr__(self) -> str:
        return f"<Observer {self.client_id} {self.host}:{self.port} messages={len(self._messages)}>"

    def __enter__(self) -> Observer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- paho callbacks (network thread) --------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._cond:
            if reason_code.is_failure:
                self._connect_result = f"refused: {reason_code}"
            else:
                self._connect_result = "ok"
                self._connected = True
                self.connects += 1
                for topic_filter, qos in self._subscriptions.items():
                    client.subscribe(topic_filter, qos)  # after a reconnect: clean session
            self._cond.notify_all()

    def _on_connect_fail(self, client, userdata) -> None:
        with self._cond:
            if self._connect_result is None:
                self._connect_result = "failed: could not open the connection"
            self._cond.notify_all()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._cond:
            self._connected = False
            self.disconnects.append(str(reason_code))
            self._cond.notify_all()

    def _on_message(self, client, userdata, message) -> None:
        with self._cond:
            msg = Msg(
                topic=message.topic,
                payload=bytes(message.payload),
                qos=message.qos,
                retain=bool(message.retain),
                index=self._next_index,
                time=time.monotonic(),
            )
            self._next_index += 1
            self._messages.append(msg)
            self._cond.notify_all()

    def _on_ack(self, client, userdata, mid, reason_codes, properties) -> None:
        with self._cond:
            self._acked[mid] = list(reason_codes)
            self._cond.notify_all()

    # -- connection ------------------------------------------------------------------------

    def _connect(self, keepalive: int, timeout: float) -> None:
        self.client.connect_async(self.host, self.port, keepalive=keepalive)
        self.client.loop_start()
        with self._cond:
            self._cond.wait_for(lambda: self._connect_result is not None, timeout)
            result = self._connect_result
        if result != "ok":
            self.close()
            where = f"{self.host}:{self.port} as {self.user!r}"
            if result is None:
                raise TimeoutError(f"observer: no CONNACK from {where} within {timeout:.1f} s")
            raise ConnectionRefusedError(f"observer: connection to {where} {result}")

    @property
    def connected(self) -> bool:
        """True between a successful CONNACK and the next disconnect."""
        return self._connected

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Wait until the client is connected (again)."""
        self._wait(lambda: self._connected, timeout, "the observer to be connected")

    def wait_disconnected(self, timeout: float = 10.0) -> str:
        """Wait until the client lost its connection; return paho's reason (e.g. keep-alive)."""
        self._wait(lambda: not self._connected, timeout, "the observer to be disconnected")
        return self.disconnects[-1]

    def close(self) -> None:
        """Disconnect and stop the network thread (safe to call twice)."""
        self.client.disconnect()
        self.client.loop_stop()
        # paho closes its internal wake-up socket pair only in __del__; when a reference cycle
        # is collected late, the sockets are finalised first and warn (an error under pytest)
        self.client._reset_sockets(sockpair_only=True)

    # -- subscribe and publish -------------------------------------------------------------

    def _wait_ack(self, rc_mid: tuple[int, int | None], what: str, timeout: float) -> list[Any]:
        rc, mid = rc_mid
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"observer: {what} failed: {mqtt.error_string(rc)}")
        self._wait(lambda: mid in self._acked, timeout, f"the broker to acknowledge {what}")
        with self._cond:
            return self._acked.pop(mid)

    def subscribe(self, topic_filter: str, qos: int = 1, timeout: float = 10.0) -> None:
        """Subscribe and wait for the SUBACK; raises RuntimeError if the broker refused it.

        Waits for the connection first (after a broker restart, paho reconnects on its own).
        """
        self.wait_connected(timeout)
        with self._cond:
            self._subscriptions[topic_filter] = qos
        codes = self._wait_ack(
            self.client.subscribe(topic_filter, qos), f"SUBSCRIBE {topic_filter!r}", timeout
        )
        if any(code.is_failure for code in codes):
            raise RuntimeError(f"observer: broker refused SUBSCRIBE {topic_filter!r}: {codes}")

    def unsubscribe(self, topic_filter: str, timeout: float = 10.0) -> None:
        """Unsubscribe and wait for the UNSUBACK."""
        self.wait_connected(timeout)
        with self._cond:
            self._subscriptions.pop(topic_filter, None)
        self._wait_ack(
            self.client.unsubscribe(topic_filter), f"UNSUBSCRIBE {topic_filter!r}", timeout
        )

    def publish(
        self,
        topic: str,
        payload: bytes | str | None = None,
        qos: int = 0,
        retain: bool = False,
        timeout: float = 10.0,
    ) -> None:
        """Publish and wait until it is sent (QoS 0) or acknowledged (QoS 1 and 2).

        Waits for the connection first, so it works right after a broker restart.
        """
        self.wait_connected(timeout)
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise TimeoutError(f"observer: PUBLISH {topic!r} not completed in {timeout:.1f} s")

    # -- recorded messages -----------------------------------------------------------------

    @property
    def messages(self) -> list[Msg]:
        """A snapshot of the recorded messages, oldest first."""
        with self._cond:
            return list(self._messages)

    def mark(self) -> int:
        """The index the next message will get: pass it as ``after`` to wait for new ones."""
        with self._cond:
            return self._next_index

    def clear(self) -> None:
        """Forget the recorded messages (indexes keep counting)."""
        with self._cond:
            self._messages.clear()

    def matching(
        self,
        topic_filter: str = "#",
        predicate: Predicate | bytes | str | None = None,
        after: int = 0,
    ) -> list[Msg]:
        """Recorded messages on ``topic_filter`` (``+``/``#`` wildcards) with ``index >= after``
        that satisfy ``predicate`` (a callable, or the exact payload as bytes/str)."""
        check = _as_predicate(predicate)
        with self._cond:
            return [
                m
                for m in self._messages
                if m.index >= after and mqtt.topic_matches_sub(topic_filter, m.topic) and check(m)
            ]

    def count(
        self,
        topic_filter: str = "#",
        predicate: Predicate | bytes | str | None = None,
        after: int = 0,
    ) -> int:
        """How many recorded messages ``matching`` would return."""
        return len(self.matching(topic_filter, predicate, after))

    def wait_message(
        self,
        topic_filter: str = "#",
        predicate: Predicate | bytes | str | None = None,
        timeout: float = 10.0,
        after: int = 0,
    ) -> Msg:
        """Return the first recorded message ``matching`` would return, waiting up to ``timeout``.

        Raises:
            AssertionError: none came; the message lists what was received instead.
        """
        return self.wait_messages(topic_filter, 1, predicate, timeout, after)[0]

    def wait_messages(
        self,
        topic_filter: str = "#",
        count: int = 1,
        predicate: Predicate | bytes | str | None = None,
        timeout: float = 10.0,
        after: int = 0,
    ) -> list[Msg]:
        """Wait until ``count`` messages match; return the first ``count`` of them."""
        found: list[Msg] = []

        def enough() -> bool:
            nonlocal found
            found = self.matching(topic_filter, predicate, after)
            return len(found) >= count

        with self._cond:
            ok = self._cond.wait_for(enough, timeout)
        if not ok:
            recent = "\n".join(
                f"  #{m.index} {m.topic} {m.payload[:200]!r} qos={m.qos} retain={m.retain}"
                for m in self.messages[-20:]
            )
            raise AssertionError(
                f"observer: {len(found)} of {count} message(s) on {topic_filter!r} "
                f"(after #{after}) within {timeout:.1f} s; last received:\n{recent or '  nothing'}"
            )
        return found[:count]

    def _wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        with self._cond:
            if not self._cond.wait_for(condition, timeout):
                raise TimeoutError(f"observer: timed out after {timeout:.1f} s waiting for {what}")
