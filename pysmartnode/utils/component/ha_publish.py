"""Home Assistant discovery's publication: the config made (ha_payload.py) and sent. Loaded by
discovery.py for a publication and dropped from sys.modules at once: the idle node does not hold
this code (a running publication holds it).
"""

from pysmartnode import node
from pysmartnode.utils.component import ha_payload

# 9 names in this module with __name__ and __file__: its table has 10 slots (an 11th: 12)


async def publication(discovery, reason):
    """Publishes the config (retained, QoS 1); True if the broker took all of it.

    reason: None for discovery.publish() (a failure raises); else the connect hook's ("connect",
    "reconnect", "homeassistant"): a failure is logged, a MemoryError tried again (backoff), and
    discovery's state pass (the next hook) runs either way."""
    # One coroutine for both rounds (no helper's frame under the client's while it writes: the
    # first connect's heap peak). A removal goes out once, as {"p": ...}; the second round
    # omits it. A copy: a removal that comes while this one waits for the broker is not what
    # it sent, and stays for the next. Few locals: this frame is under the client's while it
    # writes (each local is a word of it)
    if reason == "homeassistant":
        # the handle waited 0.5–2.5 s already; together 1–5 s, spread over many nodes
        await __import__("asyncio").sleep(0.5 + __import__("random").getrandbits(8) / 128)
    try:
        mqtt = node.mqtt  # kept: a stop takes node.mqtt away while this may still write
        if mqtt is None:
            return False  # the node stops
        settings = discovery.settings
        removed = discovery._removed
        removed = dict(removed) if removed else None
        while True:
            problems = []
            if settings[-1]:  # per entity
                from pysmartnode import utils

                payloads = utils.use_once("pysmartnode.utils.component.ha_entity")
                payloads = payloads.payloads(settings, _providers(), removed, problems)
            else:
                # The device payload (5 KiB for a few components) is never whole in RAM: the
                # client writes it piece by piece as _pieces makes them, again for a re-send.
                # One publication, no list of (topic, payload) around it. The payload is a
                # Discovery of its own (Discovery.__len__): sized at once, its pieces made
                # again at every send by _made
                payloads = type(discovery)()
                payloads.settings, payloads._removed, payloads._made = settings, removed, _made
                payloads._size = sum(map(len, _made(payloads, problems)))
            while problems:  # the logger "discovery" (made once something is logged)
                __import__("pysmartnode.logging").logging.getLogger("discovery").error(
                    "%s: %s", *problems.pop(0)
                )
            problems = None  # an empty list and its array, not held under the write (64 B)
            if settings[-1]:
                ok = True
                while payloads:  # each payload can go once it is sent
                    ok = await mqtt.publish(*payloads.pop(0), True, 1) and ok
            else:  # prefix, node id; "" removes the device (nothing to announce). The topic
                # no local: the client holds its own copy, this frame none under the write
                ok = await mqtt.publish("%s/device/%s/config" % (settings[2], settings[0]),
                                        payloads if len(payloads) else "", True, 1)  # fmt: skip
            payloads = None
            if not (ok and removed):
                break
            while removed:  # the ids sent as removed (no iterator held in this frame)
                entry = removed.popitem()  # (object_id, platform)
                if discovery._removed.get(entry[0]) == entry[1]:
                    del discovery._removed[entry[0]]
            removed = entry = None
            if settings[-1]:
                break
        discovery.publications += 1
        return ok
    except Exception as e:  # MemoryError making the payload: the states must still go out
        if reason is None:
            raise
        __import__("pysmartnode.logging").logging.getLogger("discovery").error(
            "discovery not published: %s: %s", type(e).__name__, e
        )
        if isinstance(e, MemoryError):
            discovery._again()  # the heap may have room in a moment: tried again (backoff)


def _providers():
    # what discovery announces: the node's status, then its components. A tuple (the idle
    # node's: 32 B, where a list of one takes 64), held by ha_payload.entities() while it runs
    found = tuple(node.components.values())
    return found if node.status is None else (node.status,) + found


def _made(payload, problems):
    # The pieces of payload (a Discovery made by publication()): at its sizing (problems: a list,
    # what is dropped or changed is recorded there) and at every send (Discovery.__iter__:
    # problems None, logged at the sizing; a size the pieces do not make asks for another
    # publication)
    settings = payload.settings
    found = ha_payload.entities(settings, _providers(), problems, payload._removed)
    return _pieces(settings, found, problems, None if problems is not None else payload)


def _piece(form, name, value, settings):
    # form % (name, value) as JSON, or % value if name is None, as bytes: a piece of the
    # payload. settings: value is the field name's or ha_payload.extra()'s, announced as
    # ha_payload.value() makes it (a device topic made full, the ids), or, if value is _piece
    # itself, name is the head's block (ha_payload.blocks()): made here, not held by _pieces'
    # frame; else None
    from json import dumps

    if value is _piece:
        value = ha_payload.blocks(settings)[name]
    elif settings is not None:
        value = ha_payload.value(settings, name, value)
    return (form % ((dumps(value),) if name is None else (dumps(name), dumps(value)))).encode()


def _pieces(settings, found, problems, payload):
    """The device payload (device mode) as JSON bytes pieces, one component at a time: the
    same content as ha_entity.payloads()'s, but the whole dict tree never exists at once, nor
    an entity's config: its fields are written as they are, then ha_payload.extra()'s. Nothing
    when there is nothing to announce (then publish "" to remove the device). found: the
    entities (ha_payload.entities(), removed ones too); problems: a list, or None; payload: None,
    or the payload whose size the pieces must make (another publication is asked for if not)."""
    # Every piece is short (an entity's config one key and value per piece, the head in four):
    # at the first connect the idle node's small heap has few free blocks of more than ~100 B.
    # Few locals and one loop in another at most: this frame is a block of the heap too. Each
    # piece is made by _piece, so that what it takes to make one (its JSON texts, an argument
    # tuple) is not held by this frame's stack while the client writes it
    made = 0
    while True:
        entry = next(found, None)
        if entry is None:
            break
        object_id, platform, fields = entry
        entry = None  # the tuple (64 B) is not held while its entity is written
        if fields is None:  # removed: its platform alone
            fields, extra = {"p": platform}, {}
        else:
            extra = ha_payload.extra(settings, object_id, platform, fields, problems)
        if not made:  # the head, none of its pieces over ~110 bytes
            piece = _piece("{%s: %s", "dev", _piece, settings)
            made += len(piece)
            yield piece
            piece = _piece(", %s: %s", "o", _piece, settings)
            made += len(piece)
            yield piece
            # settings[3]: the availability topic
            piece = _piece(', %s: %s, "cmps": {', "avty_t", settings[3], None)
        else:
            piece = b"}, "
        made += len(piece)
        yield piece
        piece = _piece("%s: {", None, object_id, None)
        form = "%s: %s"  # the next key and value; after the first, ", " before them
        for name, value in fields.items():
            if name not in extra:  # else set or left out by ha_payload.extra()
                made += len(piece)
                yield piece
                piece = _piece(form, name, value, settings)
                form = ", %s: %s"
        for name, value in extra.items():
            if value is not None:  # else a field left out
                made += len(piece)
                yield piece
                piece = _piece(form, name, value, settings)
                form = ", %s: %s"
        made += len(piece)
        yield piece
    if made:
        made += 3
        yield b"}}}"
    if payload is not None and made != payload._size:  # an entity changed since it was sized:
        if node.discovery is not None:  # the client cut or padded this one; the next is right
            node.discovery._again()
