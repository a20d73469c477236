"""The AMQP bus: RabbitMQ through aio-pika (the scaled-out transport).

Layout on the broker, every name under the bus's namespace ``ns`` (``overcast``
by default, so that two clouds can share a broker):

* exchange ``ns`` (direct, durable): one durable queue per topic, ``ns.topic``,
  shared by the servers of the topic, and one per ``ns.topic.server``. Senders
  declare the queue too, so a cast sent before any server started waits for one;
* exchange ``ns.<topic>_fanout`` (fanout): an exclusive queue per listening server;
* exchange ``ns.notifications`` (topic): a durable queue per listener pool,
  ``ns.notifications.<pool>``;
* an exclusive reply queue per bus, replies matched to calls by correlation id.

Publishing waits for the broker's confirm; casts are persistent. A server acks a
message only after handling it, so one that dies mid-work leaves the message to
another. Calls expire in their queue when the caller stops waiting. The
connection is aio-pika's robust one: after a broker restart it reconnects and
declares everything again; a publish attempted meanwhile is retried with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aio_pika.connection import make_url
from aio_pika.exceptions import AMQPError, DeliveryError

from overcast.common.bus.base import Bus, Consumer, Endpoint, Inflight, Listener, handle, hear
from overcast.common.bus.messages import BusError, CallTimeout

LOG = logging.getLogger(__name__)
RETRY_FIRST, RETRY_MAX = 0.1, 2.0
_TRANSIENT = (AMQPError, ConnectionError, asyncio.TimeoutError, RuntimeError)


class AmqpConsumer:
    def __init__(self, channel: AbstractChannel, inflight: Inflight) -> None:
        self.channel = channel
        self.inflight = inflight
        self.subscriptions: list[tuple[AbstractQueue, str]] = []

    async def stop(self) -> None:
        for queue, tag in self.subscriptions:
            with contextlib.suppress(*_TRANSIENT):
                await queue.cancel(tag)
        await self.inflight.drain()
        with contextlib.suppress(*_TRANSIENT):
            await self.channel.close()


class AmqpBus(Bus):
    def __init__(
        self,
        connection: AbstractRobustConnection,
        url: str,
        *,
        call_timeout: float = 60,
        prefetch: int = 64,
        publish_timeout: float = 30,
        namespace: str = "overcast",
    ) -> None:
        super().__init__(call_timeout=call_timeout, prefetch=prefetch)
        self.connection = connection
        self.where = _safe(url)
        self.namespace = namespace
        self.notifications = f"{namespace}.notifications"
        self.publish_timeout = publish_timeout
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._declared: set[str] = set()
        self._fanouts: dict[str, AbstractExchange] = {}
        self._pending: dict[str, asyncio.Future[bytes]] = {}
        self._reply_queue = f"reply.{uuid.uuid4().hex}"
        self._consumers: list[AmqpConsumer] = []

    @classmethod
    async def connect(cls, url: str, *, connect_timeout: float = 30, **options: Any) -> AmqpBus:
        """Connect to the broker at ``url``, retrying with backoff for ``connect_timeout`` s.

        :raises BusError: when the broker cannot be reached in that time.
        """
        deadline = asyncio.get_running_loop().time() + connect_timeout
        delay = RETRY_FIRST
        while True:
            connection = aio_pika.RobustConnection(make_url(url))
            try:
                await connection.connect(timeout=10)
                break
            except (*_TRANSIENT, OSError) as exc:
                await connection.close()  # else its finaliser leaves a close never awaited
                if asyncio.get_running_loop().time() + delay > deadline:
                    raise BusError(f"cannot reach RabbitMQ at {_safe(url)}: {exc}") from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
        bus = cls(connection, url, **options)
        await bus._start()
        return bus

    async def _start(self) -> None:
        self._channel = await self.connection.channel(publisher_confirms=True)
        self._exchange = await self._channel.declare_exchange(
            self.namespace, aio_pika.ExchangeType.DIRECT, durable=True
        )
        await self._channel.declare_exchange(
            self.notifications, aio_pika.ExchangeType.TOPIC, durable=True
        )
        replies = await self._channel.declare_queue(
            self._reply_queue, exclusive=True, auto_delete=True
        )
        await replies.consume(self._on_reply, no_ack=True)

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        waiter = self._pending.pop(message.correlation_id or "", None)
        if waiter is not None and not waiter.done():
            waiter.set_result(message.body)

    def _queue(self, name: str) -> str:
        """The broker's name of queue ``name`` (a topic or ``topic.server``)."""
        return f"{self.namespace}.{name}"

    async def _declare(self, queue: str) -> None:
        if queue in self._declared:
            return
        assert self._channel is not None and self._exchange is not None
        declared = await self._channel.declare_queue(self._queue(queue), durable=True)
        await declared.bind(self._exchange, routing_key=self._queue(queue))
        self._declared.add(queue)

    async def _request(self, queue: str, data: bytes, within: float) -> bytes:
        correlation = uuid.uuid4().hex
        waiter: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[correlation] = waiter
        try:
            message = aio_pika.Message(
                data,
                correlation_id=correlation,
                reply_to=self._reply_queue,
                expiration=within,
                content_type="application/json",
            )
            await self._send(queue, message)
            return await asyncio.wait_for(waiter, within)
        except TimeoutError:
            raise CallTimeout(f"no reply from {queue} within {within:g} s") from None
        finally:
            self._pending.pop(correlation, None)

    async def _publish(self, queue: str, data: bytes) -> None:
        message = aio_pika.Message(
            data, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, content_type="application/json"
        )
        await self._send(queue, message)

    async def _publish_fanout(self, topic: str, data: bytes) -> None:
        async def attempt() -> None:
            exchange = self._fanouts.get(topic)
            if exchange is None:  # declared once per bus, not on every publish
                exchange = await self._fanout_exchange(self._live_channel(), topic)
                self._fanouts[topic] = exchange
            await exchange.publish(aio_pika.Message(data), "")

        await self._retry(f"{topic}_fanout", attempt)

    async def _publish_notification(self, event_type: str, data: bytes) -> None:
        channel = self._live_channel()
        exchange = await channel.get_exchange(self.notifications, ensure=False)
        message = aio_pika.Message(data, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await self._retry(self.notifications, lambda: exchange.publish(message, event_type))

    async def _send(self, queue: str, message: aio_pika.Message) -> None:
        """Publish ``message`` to ``queue`` (declared first), retrying while the broker is away."""
        await self._retry(queue, lambda: self._declared_then(queue, message))

    async def _declared_then(self, queue: str, message: aio_pika.Message) -> None:
        await self._declare(queue)
        assert self._exchange is not None
        await self._exchange.publish(message, routing_key=self._queue(queue))

    async def _retry(self, where: str, attempt: Callable[[], Awaitable[Any]]) -> None:
        """Run ``attempt`` until the broker confirms it, with backoff while it is away."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.publish_timeout
        delay = RETRY_FIRST
        while True:
            try:
                await attempt()
                return
            except DeliveryError as exc:
                raise BusError(f"RabbitMQ refused a message for {where}: {exc}") from None
            except _TRANSIENT as exc:
                if loop.time() + delay > deadline:
                    raise BusError(
                        f"cannot send to {where}: RabbitMQ at {self.where} unreachable ({exc})"
                    ) from None
                LOG.warning("sending to %s failed (%s); retrying in %.1f s", where, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)

    def _live_channel(self) -> AbstractChannel:
        if self._channel is None:
            raise BusError("the bus is closed")
        return self._channel

    async def _fanout_exchange(self, channel: AbstractChannel, topic: str) -> AbstractExchange:
        return await channel.declare_exchange(
            self._queue(f"{topic}_fanout"), aio_pika.ExchangeType.FANOUT, durable=True
        )

    async def serve(self, topic: str, endpoint: Endpoint, *, server: str | None = None) -> Consumer:
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        consumer = AmqpConsumer(channel, Inflight(self.prefetch))
        exchange = await channel.declare_exchange(
            self.namespace, aio_pika.ExchangeType.DIRECT, durable=True
        )
        queues = [topic] if server is None else [topic, f"{topic}.{server}"]
        declared = []
        for name in map(self._queue, queues):
            queue = await channel.declare_queue(name, durable=True)
            await queue.bind(exchange, routing_key=name)
            declared.append(queue)
        fanout = await channel.declare_queue(
            self._queue(f"{topic}_fanout.{uuid.uuid4().hex}"), exclusive=True, auto_delete=True
        )
        await fanout.bind(await self._fanout_exchange(channel, topic))
        declared.append(fanout)

        async def on_message(message: AbstractIncomingMessage) -> None:
            await consumer.inflight.start(self._answer(endpoint, topic, message))

        for queue in declared:
            consumer.subscriptions.append((queue, await queue.consume(on_message)))
        self._consumers.append(consumer)
        return consumer

    async def _answer(
        self, endpoint: Endpoint, topic: str, message: AbstractIncomingMessage
    ) -> None:
        try:
            answer = await handle(endpoint, message.body, topic)
            if message.reply_to:
                reply = aio_pika.Message(answer, correlation_id=message.correlation_id)
                with contextlib.suppress(DeliveryError):  # the caller is gone
                    channel = self._live_channel()
                    await channel.default_exchange.publish(reply, routing_key=message.reply_to)
        finally:
            with contextlib.suppress(*_TRANSIENT):
                await message.ack()

    async def listen(self, pool: str, listener: Listener) -> Consumer:
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        consumer = AmqpConsumer(channel, Inflight(self.prefetch))
        exchange = await channel.declare_exchange(
            self.notifications, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(self._queue(f"notifications.{pool}"), durable=True)
        await queue.bind(exchange, routing_key="#")

        async def on_message(message: AbstractIncomingMessage) -> None:
            async def work() -> None:
                try:
                    await hear(listener, message.body, pool)
                finally:
                    with contextlib.suppress(*_TRANSIENT):
                        await message.ack()

            await consumer.inflight.start(work())

        consumer.subscriptions.append((queue, await queue.consume(on_message)))
        self._consumers.append(consumer)
        return consumer

    async def close(self) -> None:
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            await consumer.stop()
        self._channel = None
        await self.connection.close()


def _safe(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return (
        f"{parts.scheme}://{parts.username + '@' if parts.username else ''}{host}{port}{parts.path}"
    )
