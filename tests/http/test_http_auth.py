"""Credentials: Basic and bearer, on by default beyond 127.0.0.1, never logged."""

from __future__ import annotations

import base64
import sys

import pytest
from harness import REPO

for _root in (str(REPO), str(REPO / "external_modules")):
    if _root not in sys.path:
        sys.path.insert(0, _root)

PASSWORD = "pw-s3cret-xyzzy"
TOKEN = "tok-0123456789abcdef"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_listening_beyond_loopback_without_credentials_is_refused():
    from pysmartnode.components.net.http import HTTP

    with pytest.raises(ValueError, match="needs credentials"):
        HTTP("http", host="0.0.0.0")
    assert HTTP("http", host="0.0.0.0", token="t").auth is True
    assert HTTP("http", host="0.0.0.0", auth=False).auth is False
    assert HTTP("http").auth is False  # 127.0.0.1


@pytest.mark.parametrize(
    ("given", "expected", "same"),
    [(b"abc", b"abc", True), (b"abd", b"abc", False), (b"ab", b"abc", False),
     (b"abcd", b"abc", False), (b"", b"abc", False), (b"\x00" * 3, b"\x00" * 3, True)],
)  # fmt: skip
def test_credentials_compare_byte_by_byte(given, expected, same):
    from pysmartnode.components.net.http_guard import same as compare

    assert compare(given, expected) is same


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (basic("admin", "wrong"), 401),
        (basic("admin", PASSWORD), 200),
        ({"Authorization": "Bearer nope"}, 401),
        ({"Authorization": "Bearer " + TOKEN}, 200),
        ({"Authorization": "Basic !!!"}, 401),
    ],
    ids=["none", "wrong-password", "basic", "wrong-token", "bearer", "garbage"],
)
def test_only_the_right_credentials_get_in_and_no_password_is_logged(
    runtime, mosquitto, http_node, headers, status
):
    node = http_node(runtime, mosquitto, auth=True, user="admin", password=PASSWORD, token=TOKEN)
    got, answer = node.request("GET", "/api/v1/entities", headers=headers)
    assert got == status
    if status == 401:
        assert answer == {"error": "unauthorized"}
        node.proc.wait_line("unauthorized GET /api/v1/entities")
    got, _ = node.request("POST", "/api/v1/entities/lamp/on", headers=headers)
    assert got == status
    assert PASSWORD not in node.proc.output() and TOKEN not in node.proc.output()


def test_a_cross_site_post_is_refused(runtime, mosquitto, http_node):
    node = http_node(runtime, mosquitto)
    evil = {"Origin": "http://evil.example"}
    assert node.request("POST", "/api/v1/entities/lamp/on", headers=evil)[0] == 403
    assert node.request("GET", "/api/v1/entities/lamp")[1]["state"] != "ON"
    same = {"Origin": node.url}
    assert node.request("POST", "/api/v1/entities/lamp/on", headers=same)[0] == 200
