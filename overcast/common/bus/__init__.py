"""The message bus between a service's own parts (see :mod:`overcast.common.bus.base`).

``await connect(settings.bus)`` gives the configured driver: ``local`` (in-process,
the all-in-one default) or ``amqp`` (RabbitMQ).
"""

from __future__ import annotations

from overcast.common.bus.base import Bus, Consumer, Endpoint
from overcast.common.bus.local import LocalBus
from overcast.common.bus.messages import (
    BusError,
    CallTimeout,
    Empty,
    ExpectedError,
    Message,
    Notification,
    RemoteError,
    Target,
    UnsupportedMessage,
)
from overcast.common.config import BusSettings

__all__ = [
    "Bus",
    "BusError",
    "CallTimeout",
    "Consumer",
    "Empty",
    "Endpoint",
    "ExpectedError",
    "LocalBus",
    "Message",
    "Notification",
    "RemoteError",
    "Target",
    "UnsupportedMessage",
    "connect",
]


async def connect(conf: BusSettings) -> Bus:
    """The bus ``conf`` describes, connected.

    :raises BusError: when the broker cannot be reached.
    """
    if conf.driver == "local":
        return LocalBus(call_timeout=conf.call_timeout, prefetch=conf.prefetch)
    from overcast.common.bus.amqp import AmqpBus  # only scaled-out processes need aio-pika

    return await AmqpBus.connect(
        conf.url,
        connect_timeout=conf.connect_timeout,
        call_timeout=conf.call_timeout,
        prefetch=conf.prefetch,
        namespace=conf.namespace,
    )
