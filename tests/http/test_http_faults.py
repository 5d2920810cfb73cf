"""Garbage and hostile clients: the node answers or hangs up, stays online, MQTT keeps working,
and (on the unix port) its free heap comes back to where it was."""

from __future__ import annotations

import socket
import threading
import time

import pytest

MEMORY_SLACK = 8192  # bytes: lazily made objects (counters, a route's first use) may stay


def connect(port: int, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return sock


def answer(sock: socket.socket) -> bytes:
    """What the node sends before it closes (b"" if it just hung up); the node must close."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        raise AssertionError(f"the node did not close the connection; got {data[:80]!r}") from None
    sock.close()
    return data


def status_of(raw: bytes) -> int | None:
    return int(raw.split()[1]) if raw.startswith(b"HTTP/") else None


def garbage(port: int) -> None:
    for junk in (b"\x00\xff\xfe garbage\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
                 b"POST /api/v1/entities/lamp/on HTTP/1.1\r\nContent-Length: zz\r\n\r\n"):  # fmt: skip
        sock = connect(port)
        sock.sendall(junk)
        assert status_of(answer(sock)) == 400, junk


def huge_head(port: int) -> None:
    sock = connect(port)
    sock.sendall(b"GET /api/v1/info HTTP/1.1\r\n")
    try:
        for _ in range(1024):  # 1 MB of headers
            sock.sendall(b"X-Junk: " + b"a" * 1000 + b"\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the node answered and hung up early: fine
    assert status_of(answer(sock)) in (431, 400, None)


def huge_line(port: int) -> None:
    sock = connect(port)
    try:
        sock.sendall(b"GET /" + b"a" * 1_000_000)  # no newline at all
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert status_of(answer(sock)) in (431, None)


def huge_body(port: int) -> None:
    sock = connect(port)
    sock.sendall(b"POST /api/v1/entities/lamp/on HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n")
    assert status_of(answer(sock)) == 413


def slowloris(port: int) -> None:
    sock = connect(port)
    started = time.monotonic()
    try:
        for byte in b"GET /api/v1/info HTTP/1.1\r\nHost: x\r\n":  # a byte every 0.3 s
            sock.sendall(bytes([byte]))
            time.sleep(0.3)
            if time.monotonic() - started > 15:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert status_of(answer(sock)) in (408, None)


def flood(port: int) -> None:
    socks, statuses = [], []
    for _ in range(200):  # 200 at once, each with a request
        sock = connect(port)
        sock.sendall(b"GET /api/v1/entities HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(sock)
    threads = [threading.Thread(target=lambda s=s: statuses.append(status_of(answer(s))))
               for s in socks]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(statuses) == 200 and set(statuses) <= {200, 503}, set(statuses)
    assert 200 in statuses


def vanish(port: int) -> None:
    for path in (b"/", b"/api/v1/entities", b"/api/v1/events"):
        sock = connect(port)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.recv(10)  # the answer has begun ...
        sock.close()  # ... and the client resets mid-response


ATTACKS = {
    "garbage": garbage,
    "1MB-headers": huge_head,
    "1MB-line": huge_line,
    "1MB-body": huge_body,
    "slowloris": slowloris,
    "200-connections": flood,
    "vanish-mid-response": vanish,
}


def ram(node) -> int | None:
    return node.request("GET", "/api/v1/info")[1]["ram_free"]


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_the_node_survives_and_recovers(runtime, mosquitto, http_node, observer, attack):
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto, timeout=2)
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")
    node.request("GET", "/api/v1/entities")  # every route's first use done
    before = ram(node)
    ATTACKS[attack](node.port)
    assert node.request("GET", "/api/v1/info")[0] == 200  # still serving
    mark = obs.mark()
    obs.publish(node.topic("lamp/set"), "ON")  # MQTT still works
    obs.wait_message(node.topic("lamp"), b"ON", after=mark)
    assert node.proc.returncode is None
    if before is not None:
        # On the unix port the ~10 KB of an event stream whose client vanished mid-snapshot may
        # stay for up to ~15 s (seen since session 15; the cause is not found yet): a leak
        # stays for good, that goes
        after, deadline = ram(node), time.monotonic() + 25
        while after < before - MEMORY_SLACK and time.monotonic() < deadline:
            time.sleep(0.25)
            after = ram(node)
        assert after >= before - MEMORY_SLACK, (before, after)


def test_requests_get_503_below_the_heap_floor_and_mqtt_goes_on(mosquitto, http_node, observer):
    from harness import micropython_path

    micropython_path()  # the unix port has a fixed heap; CPython has none to guard
    obs = observer(mosquitto)
    node = http_node("micropython", mosquitto, min_free=1 << 30)
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")
    assert node.request("GET", "/api/v1/info") == (503, {"error": "low memory"})
    mark = obs.mark()
    obs.publish(node.topic("lamp/set"), "ON")
    obs.wait_message(node.topic("lamp"), b"ON", after=mark)
