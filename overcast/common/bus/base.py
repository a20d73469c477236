"""The bus interface both drivers implement, and what they share.

Addressing follows oslo.messaging, which OpenStack's services are built on:

* ``call(Target(topic), msg, Reply)``: one server of ``topic`` handles it, the
  caller waits for its reply (or :class:`CallTimeout`, which names the callee);
* ``call(Target(topic, server), ...)``: that one server (a compute agent's host);
* ``cast(...)``: the same without a reply; the message waits in its queue until a
  server takes it, and is handled at least once;
* ``fanout(topic, msg)``: every server listening on ``topic`` right now;
* ``notify(notification)``: every listener *pool* gets each notification once.

A server offers an :class:`Endpoint` (message kind → handler) on a topic; each
message it takes is handled in a task of its own, at most ``prefetch`` at a time.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from overcast.common.bus.messages import (
    Empty,
    ExpectedError,
    M,
    Message,
    Notification,
    Target,
    UnsupportedMessage,
    decode,
    decode_kind,
    decode_reply,
    encode,
    encode_failure,
    encode_reply,
)

LOG = logging.getLogger(__name__)
R = TypeVar("R", bound=Message)
Handler = Callable[[Any], Awaitable[Message | None]]
Listener = Callable[[Notification], Awaitable[None]]


class Endpoint:
    """The handlers a server offers on a topic, one per message kind."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[type[Message], Handler]] = {}

    def on(self, kind: type[M]) -> Callable[[Callable[[M], Awaitable[Message | None]]], Handler]:
        def register(handler: Callable[[M], Awaitable[Message | None]]) -> Handler:
            self._handlers[kind.KIND] = (kind, handler)
            return handler

        return register

    async def dispatch(self, data: bytes) -> Message | None:
        """Decode ``data`` and run its handler.

        :raises UnsupportedMessage: when no handler here takes this kind or version.
        """
        kind, _, _ = decode_kind(data)
        try:
            model, handler = self._handlers[kind]
        except KeyError:
            raise UnsupportedMessage(f"no handler for {kind} here") from None
        return await handler(decode(data, model))


class Consumer(Protocol):
    async def stop(self) -> None:
        """Take no more messages; return when those being handled are done."""


class Bus(ABC):
    def __init__(self, *, call_timeout: float, prefetch: int) -> None:
        self.call_timeout = call_timeout
        self.prefetch = prefetch

    async def call(
        self, target: Target, message: Message, reply: type[R], *, reply_within: float | None = None
    ) -> R:
        """Send ``message`` to one server of ``target`` and return its reply.

        :raises CallTimeout: when no reply came within ``reply_within`` seconds.
        :raises ExpectedError: (the handler's subclass) when the handler raised one.
        :raises RemoteError: when the handler failed otherwise.
        """
        callee = f"{target} ({message.KIND})"
        data = await self._request(target.queue, encode(message), reply_within or self.call_timeout)
        return decode_reply(data, reply, callee)

    async def cast(self, target: Target, message: Message) -> None:
        await self._publish(target.queue, encode(message))

    async def fanout(self, topic: str, message: Message) -> None:
        await self._publish_fanout(topic, encode(message))

    async def notify(self, notification: Notification) -> None:
        await self._publish_notification(notification.event_type, encode(notification))

    @abstractmethod
    async def serve(self, topic: str, endpoint: Endpoint, *, server: str | None = None) -> Consumer:
        """Handle messages for ``topic`` (and, with ``server``, for that server alone)."""

    @abstractmethod
    async def listen(self, pool: str, listener: Listener) -> Consumer:
        """Hand each notification to one listener of ``pool``."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def _request(self, queue: str, data: bytes, within: float) -> bytes: ...

    @abstractmethod
    async def _publish(self, queue: str, data: bytes) -> None: ...

    @abstractmethod
    async def _publish_fanout(self, topic: str, data: bytes) -> None: ...

    @abstractmethod
    async def _publish_notification(self, event_type: str, data: bytes) -> None: ...


async def handle(endpoint: Endpoint, data: bytes, where: str) -> bytes:
    """Run the handler of ``data``; its reply, or the failure, encoded for the caller."""
    try:
        result = await endpoint.dispatch(data)
        return encode_reply(result or Empty())
    except (ExpectedError, UnsupportedMessage) as exc:
        LOG.info("%s: %s", where, exc)
        return encode_failure(exc)
    except Exception as exc:
        LOG.exception("%s: handler failed", where)
        return encode_failure(exc)


async def hear(listener: Listener, data: bytes, pool: str) -> None:
    try:
        await listener(decode(data, Notification))
    except Exception:
        LOG.exception("notification listener of pool %s failed", pool)


class Inflight:
    """The tasks handling messages for one consumer, at most ``limit`` at once."""

    def __init__(self, limit: int) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self, work: Awaitable[None]) -> None:
        await self.slots.acquire()
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.slots.release()

    async def drain(self) -> None:
        if self.tasks:
            await asyncio.wait(set(self.tasks))
