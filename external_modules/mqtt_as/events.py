"""The event interface of mqtt_as (queue_len > 0): incoming messages as an async iterator."""

import asyncio


class MsgQueue:
    """Incoming messages for the event interface: holds exactly `size`, drops the oldest."""

    def __init__(self, size):
        self._items = []
        self._size = size
        self._event = asyncio.Event()
        self.discards = 0  # messages lost to overflow, nothing else

    def put(self, item):
        if len(self._items) >= self._size:
            self._items.pop(0)
            self.discards += 1
        self._items.append(item)
        self._event.set()

    def __aiter__(self):
        return self

    async def __anext__(self):
        while not self._items:
            self._event.clear()
            await self._event.wait()
        return self._items.pop(0)
