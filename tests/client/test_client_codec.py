"""Property tests of the packet codec, the topic matcher and the reader's packet splitting."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mqtt_as import MQTTClient, codec, options
from mqtt_as.codec import check_topic, matches
from mqtt_as.subs import check_filter, packet

MAX_REMAINING = 268435455  # four length bytes, MQTT 3.1.1 §2.2.3

# ------------------------------------------------------------------ an independent reference


def ref_varint(n: int) -> bytes:
    """MQTT 3.1.1 §2.2.3, written out from the spec's pseudo code."""
    out = []
    while True:
        digit, n = n % 128, n // 128
        out.append(digit | (0x80 if n > 0 else 0))
        if n == 0:
            return bytes(out)


def ref_split(packet: bytes) -> tuple[int, bytes]:
    """Fixed header byte and the body, checking the remaining length against the packet."""
    mult, value, i = 1, 0, 1
    while True:
        b = packet[i]
        value += (b & 127) * mult
        mult *= 128
        i += 1
        if not b & 128:
            break
    assert len(packet) - i == value, "remaining length does not match the body"
    return packet[0], packet[i:]


def ref_string(body: bytes, pos: int) -> tuple[bytes, int]:
    n = body[pos] << 8 | body[pos + 1]
    return body[pos + 2 : pos + 2 + n], pos + 2 + n


def ref_matches(topic_filter: str, topic: str) -> bool:
    """Filter → regular expression; $-topics are not matched by a leading wildcard."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    pattern = ""
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if level == "#":
            # "a/#" matches "a" and everything below it; "#" alone matches everything
            return re.fullmatch(pattern + ("(/.*)?" if i else ".*"), topic) is not None
        pattern += ("/" if i else "") + ("[^/]*" if level == "+" else re.escape(level))
    return re.fullmatch(pattern, topic) is not None


# ------------------------------------------------------------------ strategies

level = st.sampled_from(["a", "b", "", "sport", "$SYS", "ü"])
topics = st.lists(level, min_size=1, max_size=5).map("/".join).filter(bool)
filter_level = st.sampled_from(["a", "b", "", "sport", "$SYS", "+"])
filters = st.builds(
    lambda levels, hash_: "/".join(levels + (["#"] if hash_ else [])),
    st.lists(filter_level, min_size=0, max_size=4),
    st.booleans(),
).filter(bool)
text_topics = st.text(
    st.characters(blacklist_characters="+#\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=80,
)


# ------------------------------------------------------------------ varint


@given(st.integers(0, MAX_REMAINING))
def test_remaining_length_encodes_as_the_spec_says_and_decodes_back(n):
    enc = codec.varint(n)
    assert enc == ref_varint(n)
    assert codec.decode_length(b"\x30" + enc + b"tail", 1) == (n, 1 + len(enc))


@pytest.mark.parametrize(
    "n,size",
    [(0, 1), (127, 1), (128, 2), (16383, 2), (16384, 3), (2097151, 3), (2097152, 4)]
    + [(268435455, 4)],
)
def test_remaining_length_uses_the_fewest_bytes_at_each_boundary(n, size):
    assert len(codec.varint(n)) == size


@pytest.mark.parametrize("n", [-1, MAX_REMAINING + 1], ids=["negative", "too-big"])
def test_remaining_length_out_of_range_is_refused(n):
    with pytest.raises(ValueError):
        codec.varint(n)


@given(st.integers(0, MAX_REMAINING), st.data())
def test_a_truncated_remaining_length_asks_for_more_bytes(n, data):
    enc = codec.varint(n)
    cut = data.draw(st.integers(0, len(enc) - 1))
    assert codec.decode_length(b"\x30" + enc[:cut], 1) is None


def test_a_remaining_length_of_five_bytes_is_malformed():
    with pytest.raises(ValueError):
        codec.decode_length(b"\x30\xff\xff\xff\xff\x01", 1)


# ------------------------------------------------------------------ packets


@given(
    text_topics,
    st.binary(max_size=3000) | st.builds(bytes, st.integers(65536, 70000)),
    st.sampled_from([0, 1]),
    st.booleans(),
    st.integers(1, 65535),
    st.booleans(),
)
@settings(max_examples=150)
def test_publish_round_trips_through_encoder_and_parser(topic, payload, qos, retain, pid, dup):
    t = check_topic(topic)
    packet = bytes(codec.publish_header(t, len(payload), qos, retain, pid, dup)) + payload
    first, body = ref_split(packet)
    assert first >> 4 == 3 and bool(first & 8) == dup
    assert codec.parse_publish(first, body) == (t, payload, qos, retain, pid if qos else 0)
    topic_bytes, pos = ref_string(body, 0)
    assert topic_bytes.decode() == topic


@given(
    st.binary(min_size=1, max_size=23),
    st.integers(0, 65535),
    st.booleans(),
    st.binary(max_size=20),
    st.binary(max_size=20),
    st.none()
    | st.tuples(text_topics, st.binary(max_size=50), st.booleans(), st.sampled_from([0, 1])),
)
def test_connect_carries_every_field_where_the_spec_puts_it(
    client_id, keepalive, clean, user, pw, will
):
    w = (check_topic(will[0]), will[1], will[2], will[3]) if will else None
    first, body = ref_split(options.connect(client_id, keepalive, clean, user, pw, w))
    assert first == 0x10
    assert body[:7] == b"\x00\x04MQTT\x04"
    flags = body[7]
    assert body[8] << 8 | body[9] == keepalive
    assert bool(flags & 0x02) == clean
    cid, pos = ref_string(body, 10)
    assert cid == client_id
    assert bool(flags & 0x04) == bool(w)
    if w:
        assert (flags >> 3) & 3 == w[3] and bool(flags & 0x20) == w[2]
        wt, pos = ref_string(body, pos)
        wm, pos = ref_string(body, pos)
        assert (wt, wm) == (w[0], w[1])
    if user:
        u, pos = ref_string(body, pos)
        assert u == user and flags & 0x80
        if pw:
            p, pos = ref_string(body, pos)
            assert p == pw and flags & 0x40
    assert pos == len(body)


@given(st.integers(1, 65535), st.lists(st.tuples(filters, st.sampled_from([0, 1])), min_size=1))
def test_subscribe_lists_each_filter_with_its_qos(pid, subs):
    encoded = [(check_filter(f, 0, "SUBSCRIBE"), q) for f, q in subs]
    first, body = ref_split(packet(pid, encoded, True))
    assert first == 0x82 and body[0] << 8 | body[1] == pid
    pos, seen = 2, []
    while pos < len(body):
        f, pos = ref_string(body, pos)
        seen.append((f, body[pos]))
        pos += 1
    assert seen == encoded


@given(st.integers(1, 65535), st.lists(filters, min_size=1))
def test_unsubscribe_lists_each_filter(pid, fs):
    encoded = [check_filter(f, 0, "UNSUBSCRIBE") for f in fs]
    first, body = ref_split(packet(pid, encoded, False))
    assert first == 0xA2 and body[0] << 8 | body[1] == pid
    pos, seen = 2, []
    while pos < len(body):
        f, pos = ref_string(body, pos)
        seen.append(f)
    assert seen == encoded


@pytest.mark.parametrize(
    "first,body",
    [
        (0x34, b"\x00\x01a\x00\x01"),
        (0x36, b"\x00\x01a\x00\x01"),
        (0x30, b"\x00"),
        (0x30, b"\x00\x05ab"),
        (0x30, b"\x00\x00payload"),
        (0x32, b"\x00\x01a\x00\x00"),
    ],
    ids=["qos2", "qos3", "too-short", "topic-overflows", "empty-topic", "qos1-pid-0"],
)
def test_malformed_publish_is_refused(first, body):
    with pytest.raises(ValueError):
        codec.parse_publish(first, body)


# ------------------------------------------------------------------ topics


@given(filters, topics)
@settings(max_examples=400)
def test_matcher_agrees_with_the_reference(topic_filter, topic):
    assert matches(topic_filter, topic) is ref_matches(topic_filter, topic)


@pytest.mark.parametrize(
    "topic_filter,topic,expected",
    [
        ("sport/#", "sport", True),
        ("sport/#", "sport/tennis/player1", True),
        ("sport/tennis/+", "sport/tennis/player1", True),
        ("sport/tennis/+", "sport/tennis/player1/ranking", False),
        ("sport/+", "sport", False),
        ("sport/+", "sport/", True),
        ("+/+", "/finance", True),
        ("/+", "/finance", True),
        ("+", "/finance", False),
        ("#", "$SYS/broker/load", False),
        ("+/monitor/Clients", "$SYS/monitor/Clients", False),
        ("$SYS/#", "$SYS/monitor/Clients", True),
        ("$SYS/monitor/+", "$SYS/monitor/Clients", True),
        ("a/+/c/#", "a/b/c", True),
        ("a/b", "a/b/c", False),
    ],
)
def test_matcher_follows_the_spec_examples(topic_filter, topic, expected):
    assert matches(topic_filter, topic) is expected


@pytest.mark.parametrize("bad", ["", "a/#/b", "a#", "a+/b", "sport+", "#/a", "a\x00b"], ids=repr)
def test_invalid_filters_are_refused(bad):
    with pytest.raises(ValueError):
        check_filter(bad, 0, "SUBSCRIBE")


@pytest.mark.parametrize("bad", ["", "a/+", "a/#", "a\x00"], ids=repr)
def test_invalid_topic_names_are_refused(bad):
    with pytest.raises(ValueError):
        check_topic(bad)


# ------------------------------------------------------------------ the reader's packet splitting

packets = st.one_of(
    st.builds(
        lambda t, p, q, pid: (
            bytes(codec.publish_header(check_topic(t), len(p), q, False, pid, False)) + p
        ),
        text_topics,
        st.binary(max_size=200) | st.builds(bytes, st.integers(1000, 5000)),
        st.sampled_from([0, 1]),
        st.integers(1, 65535),
    ),
    st.builds(lambda pid: bytes([0x40, 2, pid >> 8, pid & 255]), st.integers(1, 65535)),
    st.just(b"\xd0\x00"),
)


@given(st.lists(packets, min_size=1, max_size=12), st.data())
@settings(max_examples=80, deadline=None)
def test_the_parser_splits_any_chunking_of_a_stream_into_the_same_packets(stream, data):
    """The client's own parser (wire._feed), fed the stream cut at random places."""
    wire = b"".join(stream)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=20)))
    chunks = [wire[a:b] for a, b in zip([0] + cuts, cuts + [len(wire)], strict=True)]
    seen = []
    client = MQTTClient({"server": "127.0.0.1", "log": lambda *a: None})
    client._dispatch = lambda first, body: seen.append(
        bytes([first]) + codec.varint(len(body)) + bytes(body)
    )
    for chunk in chunks:
        client._feed(memoryview(chunk))  # as MicroPython's reader hands it over
    assert seen == stream
    assert client._rbuf == b"" and client._large is None  # nothing left once the stream is in


@given(st.lists(packets, min_size=1, max_size=12), st.data())
@settings(max_examples=80, deadline=None)
def test_cpython_reads_every_chunk_into_one_buffer_and_keeps_no_view_of_it(stream, data):
    """CPython's Connection has the transport read each chunk into the same buffer, overwritten
    by the next read: a packet cut across reads still comes out whole (nothing may keep a view
    of that buffer), through the fast path for a lone small packet as through _feed."""
    from mqtt_as.cpython import Connection

    wire = b"".join(stream)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=20)))
    chunks = [wire[a:b] for a, b in zip([0] + cuts, cuts + [len(wire)], strict=True)]
    seen = []
    client = MQTTClient({"server": "127.0.0.1", "log": lambda *a: None})
    client._dispatch = lambda first, body: seen.append(
        bytes([first]) + codec.varint(len(body)) + bytes(body)
    )

    def fault(where, e=None):
        raise AssertionError("link fault in %s: %r" % (where, e))

    client._fault = fault
    conn = Connection()
    conn.start(client)
    for chunk in chunks:
        if chunk:
            buf = conn.get_buffer(-1)
            buf[: len(chunk)] = chunk
            conn.buffer_updated(len(chunk))
            buf[:] = b"\xee" * len(buf)  # what the next read leaves of this one
    assert seen == stream
    assert client._rbuf == b"" and client._large is None


def test_a_malformed_packet_in_the_stream_is_reported_not_skipped():
    client = MQTTClient({"server": "127.0.0.1", "log": lambda *a: None})
    with pytest.raises(ValueError):
        client._feed(b"\xd0\x00\xf0\x00")  # PINGRESP, then a packet of the reserved type 15


def test_mqtt_as_keys_without_meaning_here_are_accepted_and_unknown_keys_refused():
    MQTTClient({"server": "127.0.0.1", "gateway": False, "mqttv5_con_props": None})
    with pytest.raises(ValueError, match="unknown mqtt_as config key 'gatewya'"):
        MQTTClient({"server": "127.0.0.1", "gatewya": False})
