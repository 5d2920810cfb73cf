"""The device crypto (HMAC-SHA256, canonical JSON, signed messages) agrees with CPython's
hmac and json byte for byte, on CPython and on the MicroPython unix port."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from pysmartnode.utils import signing

APP = Path(__file__).with_name("crypto_app.py")
SECRET = "s3cret-of-node1"

HMAC_CASES = [
    (b"", b""),
    (b"k", b"The quick brown fox jumps over the lazy dog"),
    (b"\x0b" * 20, b"Hi There"),  # RFC 4231 test case 1
    (b"x" * 63, b"m" * 55),
    (b"x" * 64, b"m" * 64),  # key exactly one block
    (b"y" * 65, b"m" * 65),  # key longer than a block: hashed first
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"),  # RFC 4231 case 6
    (bytes(range(256)), bytes(range(256)) * 5),
]

CANONICAL_CASES = [
    {"b": 1, "a": 2, "B": 3, "é": 4, "aa": 5, "a b": 6, "Z": 7, "": 8},
    {"text": 'héllo ✓ 😀 中文 e\u0301 "quoted" back\\slash /slash \x7f'},
    {"ctrl": "\x00\x01\x08\t\n\x0c\r\x1f"},
    [0.1, 0.1 + 0.2, 1e16, 1e100, 1.5e-7, -0.0, 2.0, 1 / 3, 1e-300, 123456789.125, 1e15],
    [1.7976931348623157e308, -273.15, 21.5, 0.000123, 100.0, 12345678901234567.0],
    [0, -1, 2**31, 2**62, 2**64, -(2**70), True, False, None],
    {"nested": {"z": [{"y": {"x": []}}, {}], "a": {"c": [1, "2", 3.5], "b": None}}},
    {"package": ".sensors.dht22", "component": "DHT22", "constructor_args": {"pin": 4}},
    [],
    {},
    "plain",
]


def _reference(obj) -> bytes:
    # CPython's json is the reference: sorted keys, no spaces, UTF-8 kept
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _tamper(payload: bytes) -> bytes:
    return payload.replace(b'"pin":4', b'"pin":5')


def _run(runtime, run_py, tmp_path) -> dict[tuple[str, int], str]:
    body = {"id": "node1", "counter": 7, "kind": "config", "components": {"t": {"pin": 4}}}
    sealed = signing.seal(SECRET, body)
    payloads = [
        sealed,  # 0: good
        _tamper(sealed),  # 1: tampered
        signing.seal("another secret", body),  # 2: forged
        json.dumps(body).encode(),  # 3: unsigned
        signing.seal(SECRET, dict(body, counter=5)),  # 4: replayed (older counter)
        signing.seal(SECRET, dict(body, id="node2")),  # 5: another device's
        b"",  # 6: empty
        b'{"body":' + b"x" * 100,  # 7: garbage with the right start
        signing.seal(SECRET, dict(body, counter=6)),  # 8: the last accepted one again
    ]
    cases = {
        "hmac": [(k.hex(), m.hex()) for k, m in HMAC_CASES],
        "equal": [("abc", "abc"), ("abc", "abd"), ("abc", "abcd"), ("", "")],
        "canonical": CANONICAL_CASES,
        "payloads": [p.hex() for p in payloads],
        "secret": SECRET,
        "id": "node1",
        "last_counter": 6,
    }
    path = tmp_path / "cases.json"
    path.write_bytes(json.dumps(cases, ensure_ascii=False).encode())
    proc = run_py(runtime, APP, path)
    assert proc.wait(timeout=60) == 0, proc.output()
    out = {}
    assert proc.lines[-1] == "done", proc.output()
    for line in proc.lines[:-1]:
        kind, index, rest = line.split(" ", 2)
        out[(kind, int(index))] = rest
    return out


def test_hmac_and_canonical_json_match_cpython_on_both_runtimes(runtime, run_py, tmp_path):
    out = _run(runtime, run_py, tmp_path)
    for i, (key, msg) in enumerate(HMAC_CASES):
        assert out[("hmac", i)] == hmac.new(key, msg, hashlib.sha256).hexdigest(), (key, msg)
    assert [out[("equal", i)] for i in range(4)] == ["True", "False", "False", "True"]
    for i, obj in enumerate(CANONICAL_CASES):
        assert bytes.fromhex(out[("canon", i)]) == _reference(obj), obj
    n = len(CANONICAL_CASES)
    assert [out[("canon", n + i)] for i in range(3)] == ["error ValueError"] * 2 + [
        "error TypeError"
    ]


def test_signed_config_is_rejected_when_tampered_forged_unsigned_or_replayed(
    runtime, run_py, tmp_path
):
    out = _run(runtime, run_py, tmp_path)
    assert out[("unseal", 0)] == "ok 7"
    assert out[("unseal", 1)] == "rejected bad signature"
    assert out[("unseal", 2)] == "rejected bad signature"
    assert out[("unseal", 3)] == "rejected not a signed message"
    assert out[("unseal", 4)] == "rejected replayed or stale message"
    assert out[("unseal", 5)] == "rejected signed for another device"
    assert out[("unseal", 6)] == "rejected not a signed message"
    assert out[("unseal", 7)] == "rejected not a signed message"
    assert out[("unseal", 8)] == "rejected replayed or stale message"


@pytest.mark.parametrize("secret", ["", "k", "x" * 64, "long" * 40])
def test_seal_signs_canonical_body_with_cpython_hmac(secret):
    body = {"b": [1.5, "é"], "a": None}
    payload = signing.seal(secret, body)
    text = _reference(body)
    sig = hmac.new(secret.encode(), text, hashlib.sha256).hexdigest().encode()
    assert payload == b'{"body":' + text + b',"sig":"' + sig + b'"}'
    assert json.loads(payload) == {"body": body, "sig": sig.decode()}
    assert signing.unseal(secret, payload) == body
