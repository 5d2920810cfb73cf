"""Discovery across a lost link, in-process on CPython against a real mosquitto behind a fault
proxy: the Discovery is the handle's link hook, and a link that goes down closes its gate, so
components wait for the config to be out on the next connection before they publish state
(docs/components.md)."""

from __future__ import annotations

import asyncio


def test_a_lost_link_closes_the_gate_till_the_config_is_out_again(
    clean_node, mosquitto, fault_proxy, observer
):
    from pysmartnode import config
    from pysmartnode.networking.mqtt import MQTTHandle
    from pysmartnode.utils.component import discovery

    proxy = fault_proxy(mosquitto)
    obs = observer(mosquitto)
    topic = "homeassistant/device/gated/config"
    obs.subscribe(topic)
    seen = []

    async def scenario():
        handle = MQTTHandle("gated", "home", "available", "homeassistant",
                            server=proxy.host, port=proxy.port)  # fmt: skip
        clean_node.mqtt = handle
        found = clean_node.discovery = discovery.start(handle, config, "gated", "7.0.0", "cpython")
        # a link hook after the Discovery's: what discovery says right after it heard
        handle.on_link(lambda up: seen.append((up, found.ready())))
        await handle.connect()
        await asyncio.wait_for(found.wait(), 10)
        seen.append(found.ready())
        proxy.drop()  # the broker's side is gone: the client finds the link down
        for _ in range(100):
            if len(seen) >= 4:  # down, and up again
                break
            await asyncio.sleep(0.1)
        await asyncio.wait_for(found.wait(), 20)  # reconnected, the config out again
        seen.append(found.ready())
        await handle.stop()

    asyncio.run(scenario())
    assert seen == [(True, False), True, (False, False), (True, False), True]
    obs.wait_messages(topic, 2, timeout=10)  # one publication per connection
