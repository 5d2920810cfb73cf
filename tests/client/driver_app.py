"""Runs one MQTTClient under CPython or the MicroPython unix port, driven by a test.

Usage: driver_app.py <control port>. The app connects to 127.0.0.1:<port>, reads one JSON command
per line, runs each as its own task, and writes one JSON line per reply and per event:
    -> {"id": 1, "op": "new", "config": {...}}
    <- {"id": 1, "ok": true, "result": null}
    <- {"ev": "msg", "topic": "a/b", "msg": "<hex>", "retained": false}
This file is test code, but it runs on MicroPython, so it sticks to the common subset.
"""

import asyncio
import gc
import hashlib
import json
import sys
import time
from binascii import hexlify, unhexlify

from mqtt_as import MQTTClient

_client = None
_out = None
_lock = asyncio.Lock()
_fail_topics = []  # subs_cb raises for these topics (a broken application callback)


async def emit(obj):
    async with _lock:
        _out.write((json.dumps(obj) + "\n").encode())
        await _out.drain()


def event(obj):
    asyncio.create_task(emit(obj))


def on_message(topic, msg, retained, source="subs_cb"):
    t = topic.decode()
    if source == "subs_cb" and t in _fail_topics:
        raise RuntimeError("callback failure requested by the test")
    ev = {"ev": "msg", "src": source, "topic": t, "r": retained}
    if len(msg) > 4096:  # a big payload travels as its length and digest, not as hex
        ev["len"] = len(msg)
        ev["sha256"] = hexlify(hashlib.sha256(msg).digest()).decode()
    else:
        ev["msg"] = hexlify(msg).decode()
    event(ev)


async def on_state(state):
    event({"ev": "state", "up": state})


async def on_connect(client):
    event({"ev": "connected"})


_log_fails = [False]


def on_log(level, text):
    if _log_fails[0]:
        raise MemoryError("log callback out of memory (requested by the test)")
    event({"ev": "log", "level": level, "text": text})


_oom = bytearray(64)  # n of each oom_cb(n) call in order: made now, the heap may be full then
_oom_calls = [0]
_oom_raises = [None]  # an exception oom_cb raises after noting n (op "oom_raises")


def on_oom(n):
    i = _oom_calls[0]
    if i < len(_oom):
        _oom[i] = min(n, 255)
    _oom_calls[0] = i + 1
    if _oom_raises[0] is not None:
        raise _oom_raises[0]


class OomLink:
    """A link (the `link` option) whose up() raises MemoryError while `starving`: a connect
    attempt lost for want of heap; while `dying`, isconnected() does, which the client's
    watchdog asks at its next tick: a connection that dies of MemoryError right after its
    CONNACK. On either runtime (op "oom_link" switches them)."""

    starving = dying = False

    async def up(self):
        if self.starving:
            raise MemoryError("no heap for the link (requested by the test)")

    def isconnected(self):
        if self.dying:
            raise MemoryError("no heap to live connected (requested by the test)")
        return True


_oom_link = OomLink()


def make_config(cfg):
    cfg = dict(cfg)
    cfg["oom_cb"] = on_oom
    if cfg.pop("oom_link", False):
        cfg["link"] = _oom_link
    cfg["subs_cb"] = on_message
    cfg["wifi_coro"] = on_state
    cfg["connect_coro"] = on_connect
    cfg["log"] = on_log
    params = cfg.get("ssl_params")
    if params and "cadata_hex" in params:
        params = dict(params)
        params["cadata"] = unhexlify(params.pop("cadata_hex"))
        cfg["ssl_params"] = params
    if "will" in cfg and cfg["will"]:
        cfg["will"] = tuple(cfg["will"])
    return cfg


class CountingSocket:
    """The socket module with its getaddrinfo calls counted, for the client to import instead
    (MicroPython's built-in module takes no new attributes)."""

    def __init__(self, module):
        self._module = module
        self.resolves = 0

    def getaddrinfo(self, *args):
        self.resolves += 1
        return self._module.getaddrinfo(*args)

    def __getattr__(self, name):
        return getattr(self._module, name)


_socket = [None]


async def op_new(cmd):
    global _client
    if cmd.get("count_resolves"):  # before the client's first connect imports its socket code
        import socket

        _socket[0] = sys.modules["socket"] = CountingSocket(socket)
        if "mqtt_as.mpsock" in sys.modules:  # imported with the client (its wake-up functions)
            sys.modules["mqtt_as.mpsock"].socket = _socket[0]
    _fail_topics[:] = cmd.get("fail_topics", [])
    _log_fails[0] = cmd.get("log_fails", False)
    _client = MQTTClient(make_config(cmd["config"]))
    if _client.queue is not None:
        asyncio.create_task(consume_queue(_client))


async def consume_queue(client):
    # the mqtt_as event interface: messages come from an async iterator, not from subs_cb
    async for topic, msg, retained in client.queue:
        on_message(topic, msg, retained, "queue")
        if cmd_slow_consumer[0]:
            await asyncio.sleep(cmd_slow_consumer[0])


cmd_slow_consumer = [0]


async def op_connect(cmd):
    await _client.connect()


async def op_publish(cmd):
    if "size" in cmd:
        msg = bytes(cmd["size"])
    else:
        msg = unhexlify(cmd["hex"]) if "hex" in cmd else cmd["msg"]
    topic = unhexlify(cmd["topic_hex"]) if cmd.get("topic_hex") else cmd["topic"]
    return await _client.publish(topic, msg, cmd.get("retain", False), cmd.get("qos", 0))


class Chunked:
    """A payload made piece by piece (MQTTClient.publish): n pieces of `size` bytes, piece i
    all byte i % 256, claiming `length` bytes (default n * size); counts its iterations."""

    def __init__(self, n, size, length=None):
        self.n, self.size, self.made = n, size, 0
        self.length = n * size if length is None else length

    def __len__(self):
        return self.length

    def __iter__(self):
        self.made += 1
        for i in range(self.n):
            yield bytes([i % 256]) * self.size


async def op_publish_chunked(cmd):
    # returns [publish()'s result, how often the payload was made]
    msg = Chunked(cmd["n"], cmd["size"], cmd.get("length"))
    result = await _client.publish(cmd["topic"], msg, cmd.get("retain", False), cmd["qos"])
    return [result, msg.made]


async def op_publish_many(cmd):
    # n publishes on topic/<i> or one topic, sequential in one task; returns the results
    # (with `size`, each message is its index padded to size bytes; with `then_disconnect`,
    # disconnect() follows the last publish at once, in the same task)
    results = []
    for i in range(cmd["n"]):
        topic = cmd["topic"] if cmd.get("same_topic") else "%s/%d" % (cmd["topic"], i)
        msg = str(i)
        if cmd.get("size"):
            msg = msg + "." * (cmd["size"] - len(msg))
        results.append(await _client.publish(topic, msg, cmd.get("retain", False), cmd["qos"]))
    if cmd.get("then_disconnect"):
        await _client.disconnect()
    return results


async def op_publish_paced(cmd):
    # n QoS 1 publishes, one every `every` seconds: a link that is never idle. With `distinct`,
    # message i goes to <topic>/i; returns the indexes whose publish() did not return True.
    failed = []
    for i in range(cmd["n"]):
        topic = "%s/%d" % (cmd["topic"], i) if cmd.get("distinct") else cmd["topic"]
        if not await _client.publish(topic, str(i), cmd.get("retain", False), 1):
            failed.append(i)
        await asyncio.sleep(cmd["every"])
    return failed


async def op_publish_stream(cmd):
    # publishes of `size` bytes in one task, n of them or for `seconds`; returns how many
    # returned True and the first other results (an exception by its name)
    ok = 0
    other = []
    seconds = cmd.get("seconds")
    start = time.ticks_ms() if hasattr(time, "ticks_ms") else int(time.monotonic() * 1000)
    i = 0
    while True:
        if seconds is None:
            if i >= cmd["n"]:
                break
        else:
            now = time.ticks_ms() if hasattr(time, "ticks_ms") else int(time.monotonic() * 1000)
            if now - start >= seconds * 1000:
                break
        i += 1
        try:
            r = await _client.publish(cmd["topic"], bytes(cmd["size"]), False, cmd["qos"])
        except Exception as e:
            r = type(e).__name__
        if r is True:
            ok += 1
        elif len(other) < 5:
            other.append(r)
    return {"ok": ok, "n": i, "other": other}


async def op_publish_concurrent(cmd):
    # n QoS 1 publishers at once, each its own task; a sampler notes the most QoS 1 messages the
    # client held in flight at any turn of the loop (and the most heap in use, MicroPython).
    # Returns the count of True results, the first other results (exceptions by their names)
    # and those maxima.
    most = [0, 0]
    running = [True]

    async def sample():
        while running[0]:
            most[0] = max(most[0], len(_client._inflight))
            if hasattr(gc, "mem_alloc"):
                most[1] = max(most[1], gc.mem_alloc())
            await asyncio.sleep(0)

    sampler = asyncio.create_task(sample())
    topic = cmd["topic"] + "/%d"
    publishers = [_client.publish(topic % i, b"x", False, 1) for i in range(cmd["n"])]
    results = await asyncio.gather(*publishers, return_exceptions=True)
    running[0] = False
    await sampler
    other = [r if isinstance(r, bool) else type(r).__name__ for r in results if r is not True]
    return {"ok": results.count(True), "other": other[:5], "max_inflight": most[0], "heap": most[1]}


async def op_publish_cancel(cmd):
    # a publish the application gives up on after `after` seconds
    coro = _client.publish(cmd["topic"], bytes(cmd["size"]), False, cmd.get("qos", 0))
    try:
        return await asyncio.wait_for(coro, cmd["after"])
    except asyncio.TimeoutError:
        return "cancelled"


async def op_subscribe(cmd):
    cb = None
    if cmd.get("cb"):
        name = cmd["topic"]

        def cb(topic, msg, retained):
            on_message(topic, msg, retained, name)

    return await _client.subscribe(topic_of(cmd), cmd.get("qos", 0), cb)


def topic_of(cmd):
    # a topic that is not valid UTF-8 cannot cross JSON as str: it comes as hex; a very long
    # one (over the control line's limit) as its length
    if cmd.get("topic_len"):
        return "x" * cmd["topic_len"]
    return unhexlify(cmd["topic_hex"]) if cmd.get("topic_hex") else cmd["topic"]


async def op_unsubscribe(cmd):
    await _client.unsubscribe(topic_of(cmd))


async def op_disconnect(cmd):
    await _client.disconnect()


async def op_close(cmd):
    _client.close()
    for _ in range(3):
        await asyncio.sleep(0)  # let cancelled tasks finish


async def op_broker_up(cmd):
    return await _client.broker_up()


async def op_queue_info(cmd):
    cmd_slow_consumer[0] = cmd.get("slow", cmd_slow_consumer[0])
    return {"discards": _client.queue.discards, "up": _client.up.is_set()}


async def op_status(cmd):
    live = [t for t in _client._tasks if not t.done()]
    status = {"connected": _client.isconnected(), "stats": _client.stats(), "tasks": len(live)}
    status["held"] = len(_client._tasks)  # live or not: what the client keeps referenced
    status["oom"] = list(_oom[: _oom_calls[0]])  # oom_cb's n, call by call
    if _socket[0] is not None:
        status["resolves"] = _socket[0].resolves
    return status


async def op_all_tasks(cmd):
    # CPython only: every task in the loop except the driver's own
    return len(asyncio.all_tasks())


_kept = [None]


async def op_fragment(cmd):
    # MicroPython: take every free byte in pieces of cmd["hole"] bytes and give every other one
    # back, so that much of the heap is free but no block larger than about that; on=False gives
    # the pieces back. Returns the free bytes
    _kept[0] = None
    if cmd["on"]:
        from tests.heap_fill import fill  # MicroPython only: the repo root is on its path

        _kept[0] = fill((cmd["hole"],), holes=True)
    gc.collect()
    return gc.mem_free()


async def op_publish_fragmented(cmd):
    # MicroPython: publish a payload of cmd["size"] bytes, made beforehand, from a heap with
    # no free block much longer than cmd["hole"] bytes (op_fragment); whole again afterwards
    msg = bytes(cmd["size"])
    await op_fragment({"on": True, "hole": cmd["hole"]})
    try:
        return await _client.publish(cmd["topic"], msg, False, cmd["qos"])
    finally:
        await op_fragment({"on": False})


async def op_oom_link(cmd):
    _oom_link.starving = cmd.get("on", False)
    _oom_link.dying = cmd.get("dying", False)


async def op_oom_raises(cmd):
    # oom_cb raises this from now on: None, "RuntimeError" (a broken callback) or "SystemExit"
    # (a reset, with exit status 3)
    kind = cmd.get("kind")
    if kind == "SystemExit":
        _oom_raises[0] = SystemExit(3)
    elif kind:
        _oom_raises[0] = RuntimeError("oom_cb failure requested by the test")
    else:
        _oom_raises[0] = None


async def op_block(cmd):
    # Keep the loop busy without yielding, as a badly written component would
    import time

    time.sleep(cmd["seconds"])


async def op_starve(cmd):
    # MicroPython: hold every free byte of the heap for cmd["ms"], then give it back; whatever
    # the client's tasks allocate meanwhile raises MemoryError. Taken again every 10 ms: what
    # a failed allocation's collection frees (the garbage of the others) is not left to them
    import gc

    await emit({"ev": "starving"})  # the heap is taken before any other task runs again
    head = None
    for _ in range(cmd["ms"] // 10):
        for size in (4096, 256, 16, 0):
            try:
                while True:
                    head = [head, bytearray(size) if size else None]
            except MemoryError:
                pass
        await asyncio.sleep_ms(10)  # an int: no allocation
    # Unlinked link by link: a stale pointer to one link (a C stack's leftover) then keeps that
    # link alive, not the whole chain and with it the heap for the rest of the run
    while head is not None:
        link, head = head, head[0]
        link[0] = link[1] = None
    link = None
    gc.collect()


async def run(cmd):
    reply = {"id": cmd["id"], "ok": True, "result": None}
    try:
        reply["result"] = await OPS[cmd["op"]](cmd)
    except Exception as e:
        reply["ok"] = False
        reply["error"] = type(e).__name__
        reply["msg"] = str(e)
        reply["code"] = getattr(e, "code", None)
        reply["oserror"] = isinstance(e, OSError)
    try:
        await emit(reply)
    except MemoryError:  # the heap was full for a moment (a test that starves it): once more
        import gc

        gc.collect()
        await emit(reply)


OPS = {
    "new": op_new,
    "connect": op_connect,
    "publish": op_publish,
    "publish_chunked": op_publish_chunked,
    "publish_many": op_publish_many,
    "publish_paced": op_publish_paced,
    "publish_stream": op_publish_stream,
    "publish_cancel": op_publish_cancel,
    "publish_concurrent": op_publish_concurrent,
    "subscribe": op_subscribe,
    "unsubscribe": op_unsubscribe,
    "disconnect": op_disconnect,
    "close": op_close,
    "status": op_status,
    "broker_up": op_broker_up,
    "queue_info": op_queue_info,
    "all_tasks": op_all_tasks,
    "block": op_block,
    "oom_link": op_oom_link,
    "oom_raises": op_oom_raises,
    "fragment": op_fragment,
    "publish_fragmented": op_publish_fragmented,
    "starve": op_starve,
}


async def main(port):
    global _out
    reader, _out = await asyncio.open_connection("127.0.0.1", port)
    await emit({"ev": "ready", "impl": sys.implementation.name})
    while True:
        line = await reader.readline()
        if not line:
            return  # the test is gone: end the process
        cmd = json.loads(line)
        if cmd["op"] == "exit":
            return
        asyncio.create_task(run(cmd))


asyncio.run(main(int(sys.argv[1])))
