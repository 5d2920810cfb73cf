"""The client's configuration: mqtt_as's config keys and defaults, their checks, and the
making of a client from them (MQTTClient.__init__). Frozen, imported for that and dropped at
once (see conn.py); `mqtt_as.config` is made from _DEFAULTS when first read."""

# mqtt_as's config as (key, default) pairs: constants, no heap when frozen (mqtt_as.config is
# made from them on first use)
_DEFAULTS = (
    ("server", None),
    ("port", 0),  # 0: 1883, or 8883 with ssl
    ("client_id", None),  # None: derived from machine.unique_id() or random
    ("user", ""),
    ("password", ""),
    ("keepalive", 60),  # seconds, sent to the broker
    ("ping_interval", 0),  # seconds of silence before a PINGREQ; 0: keepalive / 4
    ("response_time", 10),  # seconds to wait for CONNACK, SUBACK, PINGRESP, PUBACK, write progress
    ("max_repubs", 4),  # QoS 1 re-sends per connection before the link is declared dead
    ("clean_init", True),  # clean session on the first connect
    ("clean", True),  # clean session on reconnects
    ("will", None),  # (topic, msg, retain, qos)
    ("subs_cb", None),  # subs_cb(topic: bytes, msg: bytes, retained: bool), sync or async
    ("wifi_coro", None),  # called with False on every outage, True after every connect
    ("connect_coro", None),  # called with the client after every connect
    ("ssl", False),  # True, or an ssl.SSLContext
    ("ssl_params", None),  # None: {}; see tls.py: cadata, ca_certs, cert, key, certfile...
    ("queue_len", 0),  # > 0: incoming messages go to client.queue (async iterator) instead
    ("out_queue_len", 20),  # publishes held while offline; see docs for the overflow policy
    ("max_inflight", 32),  # QoS 1 messages awaiting PUBACK at once; more publishers wait
    ("max_packet_size", 0),  # > 0: publish() refuses larger packets (the broker's limit)
    ("max_incoming", 0),  # > 0: incoming messages larger than this are discarded (and acked)
    ("reconnect_max", 0.5),  # seconds, cap of the reconnect backoff (30 s after a refusal)
    ("outage_summary", 60),  # seconds between the log lines that sum up a long outage
    ("link", None),  # object with async up() and isconnected(): Wi-Fi and the like
    ("ssid", None),  # with no link: join this Wi-Fi network first (boards only, see wlan.py)
    ("wifi_pw", None),
    ("log", None),  # log(level: str, msg: str); None prints warnings and errors
    # oom_cb(n) after the n-th connect attempt in a row lost to MemoryError; a connection that
    # died of MemoryError within 10 s counts as one, one that lasted or failed otherwise resets n
    ("oom_cb", None),
    ("mqttv5", False),  # not supported; True raises ValueError
)


def init(c, cfg):  # MQTTClient(cfg)
    from .codec import CPYTHON, check_topic
    from .wire import waitq

    # The options read through o(key), not a dict made from _DEFAULTS and cfg: that dict of 32
    # keys wanted one 592-byte block (64-bit) at start-up, where a node's heap is fullest
    for key in cfg:
        for name, _ in _DEFAULTS:
            if name == key:
                break
        else:  # mqtt_as keys that mean nothing here are accepted: its config dicts work as they are
            if key not in ("gateway", "mqttv5_con_props"):
                raise ValueError("unknown mqtt_as config key %r" % (key,))

    def o(key):
        if key in cfg:
            return cfg[key]
        for name, default in _DEFAULTS:
            if name == key:
                return default
        raise KeyError(key)

    if o("mqttv5"):
        raise ValueError("MQTT v5 is not supported by this client; use MQTT 3.1.1")
    if not o("server"):
        raise ValueError("config['server'] must name the broker")
    keepalive = o("keepalive")
    if not 0 <= keepalive < 65536:
        raise ValueError("keepalive must be 0 to 65535 s, got %r" % (keepalive,))
    if not o("outage_summary") > 0:
        raise ValueError("outage_summary must be > 0 s, got %r" % (o("outage_summary"),))
    if not 1 <= o("max_inflight") <= 65000:
        raise ValueError("max_inflight must be 1 to 65000, got %r" % (o("max_inflight"),))
    # The attributes first, while the heap is least cut up by this call's own objects: the
    # instance's table grows to its full 29 slots (464 bytes) here, and the tables it
    # outgrows leave holes that the buffer, the CONNECT packet and the tuples below fill
    c._busy = False  # a packet is being written (see Wire._send: one at a time)
    c._upq = waitq()  # requests waiting for the link (_connected 2) park here
    c._napping = False  # the supervisor sleeps between watchdog ticks: _fault wakes it
    c._inflight = {}  # pid -> record of a QoS 1 publish awaiting PUBACK
    c._waiters = {}  # pid -> [event, result, sent] of a SUBSCRIBE or UNSUBSCRIBE
    c._tasks = set()  # every task this client started and has not seen finish
    c._writer = c._supervisor = c._writing = None
    c._addr = None  # MicroPython: the broker's (family, address), looked up once
    c._conn_tasks = ()  # of this connection: the reader (MicroPython), the watchdog
    # connected: False, True (restoring the session), 2 (up: restored and reported)
    c._connected = c._running = False  # running: from connect() to disconnect()
    c._pid = c._last_rx = c._last_tx = c._tx_at = 0
    c._ping_at = c._down_since = None  # ping_at: of a PINGREQ awaiting its PINGRESP
    c._ping_due = False
    c._rbuf = b""  # the start of a small packet whose end has not arrived yet (Wire)
    c._acks_due = []  # packet ids of QoS 1 messages received and not yet acknowledged
    # Counters, a list (a dict took 64 bytes more): 0 connects, 1 reconnects, 2 dropped, 3
    # downtime (s), 4 faults, 5 last_fault, 6 stray_acks, 7 callback_errors, 8 discarded; and,
    # not in stats(), link.py's out-of-memory count: 9 oom_cb's n, 10 how the connection died
    # (0 judged, 1 MemoryError, 2 else), 11 an oom_cb raise logged in this outage. 9 to 12
    # items take the same 3 blocks, 64-bit and 32-bit: the 3 cost no heap
    c._stats = [0, 0, 0, 0.0, 0, "", 0, 0, 0, 0, 0, 0]
    c._subs = {}  # filter bytes -> [qos, callback or None, state, deaths] (subs.py)
    c._outq = []  # records waiting for the link
    c._seq = 0
    c._reported = None  # the last state told to wifi_coro / up / down

    will = o("will")
    if will:
        if len(will) != 4 or will[3] not in (0, 1):
            raise ValueError("will must be (topic, msg, retain, qos) with qos 0 or 1")
        will = (check_topic(will[0]), utf8(will[1]), will[2], will[3])
    client_id = o("client_id") or default_client_id()
    host = o("server")
    ssl = o("ssl")
    params = o("ssl_params") or {}
    if ssl is True:  # configuration errors raise here, not as "unreachable" later
        from .tls import context

        ssl = context(params)
    # TLS: (context, the name the certificate must show); None: plain TCP
    tls = (ssl, params.get("server_hostname") or host) if ssl else None
    user, password = utf8(o("user") or b""), utf8(o("password") or b"")
    # What every connection uses, one tuple (64 bytes, 64-bit; 2 to 6 items take the same):
    # 0 the CONNECT packet (clean flag clear: conn.py sets it), 1 TLS or None, 2 the broker's
    # host, 3 its port, 4 MicroPython: the reader's one buffer for life (read(n) would want n
    # free bytes every call), None on CPython
    view = None if CPYTHON else memoryview(bytearray(256))  # Wire's _CHUNK
    hello = connect(utf8(client_id), keepalive, False, user, password, will)
    c._setup = (hello, tls, host, o("port") or (8883 if ssl else 1883), view)
    ping = o("ping_interval") or (keepalive / 4 if keepalive else 20)
    if keepalive:
        ping = min(ping, keepalive)
    # Options read now and then, one tuple (an instance's attributes share one hash table: up
    # to 29 take 480 bytes, 30 to 37 608; this client has 29, with the 3 made when first needed,
    # _large, _lockq and _slotq, class attributes till then): 0 cap of the reconnect backoff (ms),
    # 1 between the outage log lines (ms), 2 clean (reconnects), 3 clean_init, 4 wifi_coro, 5
    # connect_coro, 6 out_queue_len, 7 oom_cb
    t = int(o("reconnect_max") * 1000), int(o("outage_summary") * 1000), o("clean")
    t += o("clean_init"), o("wifi_coro"), o("connect_coro")
    # ... 8 log, 9 link, 10 subs_cb, 11 max_repubs, 12 response_time (s), 13 ping interval (ms),
    # 14 max_packet_size, 15 max_incoming (0: no limit, each), 16 max_inflight
    link = o("link")
    if link is None and o("ssid"):
        from .wlan import WLAN

        link = WLAN(o("ssid"), o("wifi_pw"))
    t += max(0, o("out_queue_len")), o("oom_cb"), o("log"), link, o("subs_cb")
    t += o("max_repubs"), o("response_time"), int(ping * 1000)
    c._opts = t + (o("max_packet_size"), o("max_incoming"), o("max_inflight"))
    if o("queue_len") > 0:  # the event interface of mqtt_as
        from .events import MsgQueue

        c.queue = MsgQueue(o("queue_len"))
        c.up = __import__("asyncio").Event()  # set on every connect; the application clears it
        c.down = __import__("asyncio").Event()  # set on every outage; the application clears it


def default_client_id():
    """machine.unique_id() in hex on a board, else a random id."""
    try:
        from binascii import hexlify

        from machine import unique_id

        return hexlify(unique_id())
    except ImportError:
        from random import getrandbits

        return "mqtt_as_%08x" % getrandbits(32)


def utf8(s):
    """Return s as bytes: str is UTF-8 encoded, bytes-like is copied as is."""
    if isinstance(s, str):
        return s.encode()
    return bytes(s)


def connect(client_id, keepalive, clean, user=b"", password=b"", will=None):
    """CONNECT packet. will is (topic, msg, retain, qos) with bytes topic and msg, or None."""
    from .codec import _field, varint

    flags = 0x02 if clean else 0
    payload = _field(client_id)
    if will:
        topic, msg, retain, qos = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += _field(topic) + _field(msg)
    if user:
        flags |= 0x80
        payload += _field(user)
        if password:
            flags |= 0x40
            payload += _field(password)
    body = b"\x00\x04MQTT\x04" + bytes((flags, keepalive >> 8, keepalive & 0xFF)) + payload
    return b"\x10" + varint(len(body)) + body
