"""The MQTT handle's connect and link hooks, in-process on CPython against a real mosquitto: a
hook that raises is logged and the next still runs (docs/node.md, on_connect, on_link)."""

from __future__ import annotations

import asyncio


def _hooked(mosquitto, kind):
    # A handle with two hooks of `kind` ("connect" or "link"): the first raises, the second
    # records what it got; connected until the second has run, then stopped
    from pysmartnode.networking.mqtt import MQTTHandle

    got = []

    def broken(arg):
        raise ValueError("%s broken on purpose" % kind)

    async def later(arg):
        got.append(arg)

    async def scenario():
        handle = MQTTHandle("hooked", server=mosquitto.host, port=mosquitto.port)
        add = handle.on_connect if kind == "connect" else handle.on_link
        add(broken)
        add(later if kind == "connect" else got.append)
        await handle.connect()
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.05)
        await handle.stop()

    asyncio.run(asyncio.wait_for(scenario(), 20))
    return got


def test_a_connect_hook_that_raises_is_logged_and_the_next_still_runs(mosquitto, capsys):
    assert _hooked(mosquitto, "connect") == ["connect"]
    assert "connect hook raised ValueError: connect broken on purpose" in capsys.readouterr().out


def test_a_link_hook_that_raises_is_logged_and_the_next_still_runs(mosquitto, capsys):
    assert _hooked(mosquitto, "link")[:1] == [True]
    assert "link hook raised ValueError: link broken on purpose" in capsys.readouterr().out


def test_a_handle_stopped_before_it_connected_leaves_no_announcement_behind():
    # connect() makes the first connect's announcement before it connects (the idle node's
    # heap has room for it there); a stop before any connect closes it, unrun
    import gc
    import socket
    import warnings

    from pysmartnode.networking.mqtt import MQTTHandle

    with socket.socket() as unused:  # a port no broker listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    got = []

    async def scenario():
        handle = MQTTHandle("never", server="127.0.0.1", port=port)
        handle.on_connect(got.append)
        connecting = asyncio.create_task(handle.connect())
        await asyncio.sleep(0.3)  # refused, waiting to try again
        connecting.cancel()
        await handle.stop()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(asyncio.wait_for(scenario(), 20))
        gc.collect()
    assert got == []
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_an_announcement_that_fails_after_home_assistants_birth_is_logged_and_counted(
    mosquitto, capsys
):
    # The announcement runs as a task of the client's and fails as the client's guard of a
    # callback would (logged, counted in callback_errors); after Home Assistant's birth message
    # too, not a "task failed" of the loop's alone
    from pysmartnode.networking.mqtt import MQTTHandle

    async def scenario():
        handle = MQTTHandle("birth", server=mosquitto.host, port=mosquitto.port,
                            discovery_prefix="homeassistant")  # fmt: skip
        await handle.connect()
        for _ in range(100):  # the first announcement: `online` out
            if handle._synced is True and not handle._client._inflight:
                break
            await asyncio.sleep(0.05)

        def refused(*args, **kwargs):
            raise RuntimeError("refused on purpose")

        handle.publish = refused  # `online` fails from now on
        handle._on_homeassistant("homeassistant/status", "online", False)
        errors = 0
        for _ in range(100):  # its random delay: 0.5-2.5 s
            errors = handle._client.stats()["callback_errors"]
            if errors:
                break
            await asyncio.sleep(0.05)
        del handle.publish
        await handle.stop()
        return errors

    assert asyncio.run(asyncio.wait_for(scenario(), 20)) == 1
    assert "callback raised RuntimeError: refused on purpose" in capsys.readouterr().out
