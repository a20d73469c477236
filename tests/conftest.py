"""Fixtures shared by every test tier."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from overcast.common.bus import Bus, Consumer, Endpoint, LocalBus, connect
from overcast.common.bus.base import Listener
from overcast.common.bus.relay import Hub, RelayBus, listen
from overcast.common.config import BusSettings, Settings

RABBIT_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
BUS_DRIVERS = ["local", "relay", pytest.param("amqp", marks=pytest.mark.rabbitmq)]
"""``relay``: servers on one worker's local bus, senders in another reaching it by the relay."""
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
FAST_HASHING = {"password_hash_rounds": 4}
"""bcrypt's cheapest cost, for tests: the production default (12) costs ~0.25 s a hash."""


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    identity = {**FAST_HASHING, **overrides.pop("identity", {})}
    return Settings.load(None, {}, data_dir=data_dir, identity=identity, **overrides)


class PostgresSchema:
    """A throw-away schema in the test database, dropped afterwards."""

    def __init__(self) -> None:
        self.name = f"overcast_test_{uuid.uuid4().hex[:12]}"

    async def drop(self) -> None:
        engine = create_async_engine(POSTGRES_URL)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        await engine.dispose()


@pytest.fixture
async def pg_schema() -> AsyncIterator[PostgresSchema]:
    schema = PostgresSchema()
    yield schema
    await schema.drop()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
"""Database backends the API tests run on (PostgreSQL ones can be deselected: -m "not postgres")."""


@asynccontextmanager
async def backend_settings(
    backend: str, data_dir: Path, **overrides: Any
) -> AsyncIterator[Settings]:
    """Settings for ``backend``: SQLite in ``data_dir``, or a throw-away PostgreSQL schema."""
    schema = PostgresSchema() if backend == "postgresql" else None
    if schema is not None:
        overrides["database"] = {"url": POSTGRES_URL, "schema": schema.name}
    try:
        yield make_settings(data_dir, **overrides)
    finally:
        if schema is not None:
            await schema.drop()


TOPICS: list[str] = []
SERVERS = ("h1", "h2", "h9", "s1", "s2")
"""The server names bus tests use, whose queues are deleted with their topic's."""


def topic() -> str:
    """A topic of this test alone; its durable RabbitMQ queues are deleted afterwards."""
    TOPICS.append(f"test-{uuid.uuid4().hex[:10]}")
    return TOPICS[-1]


def bus_settings(driver: str, **overrides: Any) -> BusSettings:
    """A bus of ``driver``; on RabbitMQ, under a namespace of its own (see drop_namespace)."""
    namespace = f"test-{uuid.uuid4().hex[:10]}"
    return BusSettings(driver=driver, url=RABBIT_URL, namespace=namespace, **overrides)


class Relayed(Bus):
    """Two workers' view of the bus in one: it serves on the first worker's local bus and
    sends as the second worker does, through the relay socket."""

    def __init__(self, local: LocalBus, hub: Hub, sender: RelayBus) -> None:
        super().__init__(call_timeout=local.call_timeout, prefetch=local.prefetch)
        self.local, self.hub, self.sender = local, hub, sender

    @classmethod
    async def start(cls, call_timeout: float) -> Relayed:
        relay = listen()
        local = LocalBus(call_timeout=call_timeout)
        hub = Hub(local)
        assert relay.sock is not None
        await hub.start(relay.sock)
        return cls(local, hub, RelayBus(relay.address, call_timeout=call_timeout))

    async def serve(self, topic: str, endpoint: Endpoint, *, server: str | None = None) -> Consumer:
        return await self.local.serve(topic, endpoint, server=server)

    async def listen(self, pool: str, listener: Listener) -> Consumer:
        return await self.local.listen(pool, listener)

    async def _request(self, queue: str, data: bytes, within: float) -> bytes:
        return await self.sender._request(queue, data, within)

    async def _publish(self, queue: str, data: bytes) -> None:
        await self.sender._publish(queue, data)

    async def _publish_fanout(self, topic: str, data: bytes) -> None:
        await self.sender._publish_fanout(topic, data)

    async def _publish_notification(self, event_type: str, data: bytes) -> None:
        await self.sender._publish_notification(event_type, data)

    async def close(self) -> None:
        await self.sender.close()
        await self.hub.close()
        await self.local.close()


@pytest.fixture(params=BUS_DRIVERS)
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    if request.param == "relay":
        relayed = await Relayed.start(call_timeout=10)
        yield relayed
        await relayed.close()
        TOPICS.clear()
        return
    conf = bus_settings(request.param, call_timeout=10)
    the_bus = await connect(conf)
    yield the_bus
    await the_bus.close()
    if request.param == "amqp":
        await drop_namespace(conf.namespace, TOPICS, SERVERS)
    TOPICS.clear()


async def drop_namespace(namespace: str, topics: Iterable[str], servers: Iterable[str]) -> None:
    """Delete the durable queues and exchanges a test left on RabbitMQ under ``namespace``."""
    topics, servers = list(topics), list(servers)
    queues = [
        *(f"{namespace}.{t}" for t in topics),
        *(f"{namespace}.{t}.{s}" for t in topics for s in servers),
        *(f"{namespace}.notifications.{t}" for t in topics),
    ]
    exchanges = [
        namespace,
        f"{namespace}.notifications",
        *(f"{namespace}.{t}_fanout" for t in topics),
    ]
    connection = await aio_pika.connect(RABBIT_URL)
    async with connection:
        for queue in queues:
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                channel = await connection.channel()
                await channel.queue_delete(queue)
        for exchange in exchanges:
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                channel = await connection.channel()
                await channel.exchange_delete(exchange)
