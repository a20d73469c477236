"""The in-process bus: asyncio queues in one event loop (the all-in-one default).

It keeps the AMQP driver's semantics, so that code tested on one behaves the same
on the other: a queue exists from its first use and holds messages until a server
takes them; a call that timed out is not handled late; fanout and notification
queues exist only while someone listens; every message crosses as encoded bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from overcast.common.bus.base import Bus, Consumer, Endpoint, Inflight, Listener, handle, hear
from overcast.common.bus.messages import CallTimeout


@dataclass
class _Item:
    data: bytes
    reply: asyncio.Future[bytes] | None = None


Work = Callable[[_Item], Awaitable[None]]


@dataclass
class _LocalConsumer:
    queues: list[asyncio.Queue[_Item]]
    inflight: Inflight
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    on_stop: list[asyncio.Queue[_Item]] = field(default_factory=list)
    bus: LocalBus | None = None

    async def stop(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        await self.inflight.drain()
        if self.bus is not None:
            self.bus._forget(self.on_stop)


class LocalBus(Bus):
    def __init__(self, *, call_timeout: float = 60, prefetch: int = 64) -> None:
        super().__init__(call_timeout=call_timeout, prefetch=prefetch)
        self._queues: dict[str, asyncio.Queue[_Item]] = {}
        self._fanout: dict[str, list[asyncio.Queue[_Item]]] = {}
        self._pools: dict[str, asyncio.Queue[_Item]] = {}
        self._consumers: list[_LocalConsumer] = []

    def _queue(self, name: str) -> asyncio.Queue[_Item]:
        return self._queues.setdefault(name, asyncio.Queue())

    async def _request(self, queue: str, data: bytes, within: float) -> bytes:
        reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._queue(queue).put_nowait(_Item(data, reply))
        try:
            return await asyncio.wait_for(reply, within)
        except TimeoutError:
            raise CallTimeout(f"no reply from {queue} within {within:g} s") from None

    async def _publish(self, queue: str, data: bytes) -> None:
        self._queue(queue).put_nowait(_Item(data))

    async def _publish_fanout(self, topic: str, data: bytes) -> None:
        for queue in self._fanout.get(topic, []):
            queue.put_nowait(_Item(data))

    async def _publish_notification(self, event_type: str, data: bytes) -> None:
        for queue in self._pools.values():
            queue.put_nowait(_Item(data))

    async def serve(self, topic: str, endpoint: Endpoint, *, server: str | None = None) -> Consumer:
        fanout: asyncio.Queue[_Item] = asyncio.Queue()
        self._fanout.setdefault(topic, []).append(fanout)
        queues = [self._queue(topic), fanout]
        if server is not None:
            queues.append(self._queue(f"{topic}.{server}"))
        consumer = _LocalConsumer(queues, Inflight(self.prefetch), on_stop=[fanout], bus=self)

        async def work(item: _Item) -> None:
            if item.reply is not None and item.reply.done():
                return  # the caller gave up: as an expired AMQP message, it is not handled
            answer = await handle(endpoint, item.data, topic)
            if item.reply is not None and not item.reply.done():
                item.reply.set_result(answer)

        consumer.readers = [asyncio.ensure_future(_read(q, consumer, work)) for q in queues]
        self._consumers.append(consumer)
        return consumer

    async def listen(self, pool: str, listener: Listener) -> Consumer:
        queue = self._pools.setdefault(pool, asyncio.Queue())
        consumer = _LocalConsumer([queue], Inflight(self.prefetch), bus=self)

        async def work(item: _Item) -> None:
            await hear(listener, item.data, pool)

        consumer.readers = [asyncio.ensure_future(_read(queue, consumer, work))]
        self._consumers.append(consumer)
        return consumer

    def _forget(self, queues: list[asyncio.Queue[_Item]]) -> None:
        for subscribers in self._fanout.values():
            for queue in queues:
                with contextlib.suppress(ValueError):
                    subscribers.remove(queue)

    async def close(self) -> None:
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            await consumer.stop()


async def _read(queue: asyncio.Queue[_Item], consumer: _LocalConsumer, work: Work) -> None:
    while True:
        item = await queue.get()
        await consumer.inflight.start(work(item))
