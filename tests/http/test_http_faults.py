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


RESET = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # SO_LINGER on, 0 s: close() sends a reset


def vanish(port: int) -> None:
    for path in (b"/", b"/api/v1/entities", b"/api/v1/events"):
        sock = connect(port)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
        sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.recv(10)  # the answer has begun ...
        sock.close()  # ... and the client resets mid-response
    # Event streams whose client resets at once, or a little later: some resets land while the
    # node writes the response's head (microdot then returns without closing the stream)
    for delay in (0, 0.001, 0.002, 0.005, 0.01, 0.02):
        sock = connect(port)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
        sock.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(delay)
        sock.close()


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


def first_stream(node) -> None:
    """An event stream opened and left: its first use (asyncio's Event on the unix port, the
    state watcher) is done before the heap is measured, so the figure after is comparable."""
    sock = connect(node.port)
    sock.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.recv(10)
    sock.close()
    assert settled(node, None)[0] == 0


def settled(node, before: int | None) -> tuple[int, int | None]:
    """(event streams open, free heap) once no stream is open and the heap is back (or 3 s
    passed: what a client that left holds goes at once; a stream the node failed to end
    stayed until its queue of 16 frames was full, ~15 s here)."""
    deadline = time.monotonic() + 3
    while True:
        info = node.request("GET", "/api/v1/info")[1]
        streams, free = info["http"]["events"], info["ram_free"]
        back = before is None or free >= before - MEMORY_SLACK
        if (streams == 0 and back) or time.monotonic() > deadline:
            return streams, free
        time.sleep(0.1)


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_the_node_survives_and_recovers(runtime, mosquitto, http_node, observer, attack):
    obs = observer(mosquitto)
    node = http_node(runtime, mosquitto, timeout=2)
    obs.subscribe(node.topic("lamp"))
    obs.wait_message(node.topic("lamp"), b"OFF")
    node.request("GET", "/api/v1/entities")  # every route's first use done
    first_stream(node)
    before = ram(node)
    ATTACKS[attack](node.port)
    assert node.request("GET", "/api/v1/info")[0] == 200  # still serving
    mark = obs.mark()
    obs.publish(node.topic("lamp/set"), "ON")  # MQTT still works
    obs.wait_message(node.topic("lamp"), b"ON", after=mark)
    assert node.proc.returncode is None
    streams, after = settled(node, before)
    assert streams == 0  # no event stream outlives its client
    if before is not None:
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
