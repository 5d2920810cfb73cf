"""MQTTHandle.publish() hands back the client's coroutine (no frame of its own on the heap while
the client writes), yet a bad topic or payload still raises where the coroutine is awaited, not
at the call: a caller that runs it as a task (the command echo in _echo) gets the error in the
task, and a call that is never awaited raises nothing."""

from __future__ import annotations

import asyncio

import pytest

from pysmartnode.networking.mqtt import MQTTHandle


class Unprintable:
    def __str__(self):
        raise RuntimeError("no text for this payload")


def handle() -> MQTTHandle:
    return MQTTHandle("node1", "home", "available", None, server="127.0.0.1")


@pytest.mark.parametrize(
    ("topic", "payload", "error"),
    [
        ("home/#", "x", ValueError),  # no wildcard in a topic published to
        ("./state", {"bad": {1, 2}}, TypeError),  # a set is not JSON
        ("./state", Unprintable(), RuntimeError),
    ],
)
def test_a_bad_publication_raises_where_it_is_awaited_not_at_the_call(topic, payload, error):
    async def run():
        mqtt = handle()
        coro = mqtt.publish(topic, payload, qos=1)  # must not raise here
        with pytest.raises(error):
            await coro

    asyncio.run(run())
