"""The MQTT handle's connect hooks, in-process on CPython against a real mosquitto: a hook that
raises is logged and the next still runs (docs/node.md, on_connect)."""

from __future__ import annotations

import asyncio


def test_a_connect_hook_that_raises_is_logged_and_the_next_still_runs(mosquitto, capsys):
    from pysmartnode.networking.mqtt import MQTTHandle

    got = []

    def broken(reason):
        raise ValueError("broken on purpose")

    async def later(reason):
        got.append(reason)

    async def scenario():
        handle = MQTTHandle("hooked", server=mosquitto.host, port=mosquitto.port)
        handle.on_connect(broken)
        handle.on_connect(later)
        await handle.connect()
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.05)
        await handle.stop()

    asyncio.run(asyncio.wait_for(scenario(), 20))
    assert got == ["connect"]
    assert "connect hook raised ValueError: broken on purpose" in capsys.readouterr().out
