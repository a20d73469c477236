"""Talking to storage nodes: one request per replica, and the answer a quorum gives.

A write succeeds when a quorum of replicas (a majority) took it; a node that
cannot be reached is replaced by the ring's next handoff, so writes go on while
nodes are down and the replicator moves the data home later. A read asks the
replicas one after another until one has the thing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from overcast.object.ring.devices import Device

LOG = logging.getLogger(__name__)
PathOf = Callable[[Device], str]
"""The URL of a request on one node."""
HeadersOf = Callable[[int], dict[str, str]]
"""The headers of the request to the i-th replica."""


def quorum(replicas: int) -> int:
    """How many replicas must agree: a majority."""
    return replicas // 2 + 1


def node_path(device: Device, partition: int, *names: str) -> str:
    quoted = "/".join(quote(name, safe="") for name in names)
    return f"http://{device.ip}:{device.port}/{quote(device.device, safe='')}/{partition}/{quoted}"


@dataclass
class Reply:
    node: Device
    status: int
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""


def best_status(replies: list[Reply], replicas: int) -> int:
    """The status a quorum of ``replicas`` agrees on, or 503 when none does.

    Statuses agree by class for successes (201 and 202 both say "done") and
    exactly otherwise (404 and 409 say different things).
    """
    need = quorum(replicas)
    successes = [r.status for r in replies if 200 <= r.status < 300]
    if len(successes) >= need:
        return Counter(successes).most_common(1)[0][0]
    failures = Counter(r.status for r in replies if 400 <= r.status < 500)
    for status, count in failures.most_common():
        if count >= need:
            return status
    return 503


class Backend:
    def __init__(self, client: httpx.AsyncClient, *, timeout: float = 10.0) -> None:
        self.client = client
        self.timeout = timeout

    async def one(
        self,
        node: Device,
        method: str,
        url: str,
        headers: dict[str, str],
        params: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> Reply | None:
        """One node's answer (None when it cannot be reached or answers 5xx)."""
        try:
            response = await self.client.request(
                method, url, headers=headers, params=params, content=content,
                timeout=self.timeout,
            )  # fmt: skip
        except httpx.HTTPError as exc:
            LOG.info("%s %s: %s", method, url, exc)
            return None
        if response.status_code >= 500:
            LOG.info("%s %s: %s", method, url, response.status_code)
            return None
        return Reply(node, response.status_code, response.headers, response.content)

    async def to_replicas(
        self,
        method: str,
        nodes: list[Device],
        handoffs: Iterator[Device],
        path_of: PathOf,
        headers_of: HeadersOf,
        content: bytes | None = None,
    ) -> list[Reply]:
        """The same small request (``content``: its body) to every replica; a node that
        fails gives way to a handoff."""

        async def attempt(index: int, node: Device) -> Reply | None:
            while True:
                url, headers = path_of(node), headers_of(index)
                reply = await self.one(node, method, url, headers, content=content)
                if reply is not None:
                    return reply
                spare = next(handoffs, None)
                if spare is None:
                    return None
                node = spare

        found = await asyncio.gather(*(attempt(i, n) for i, n in enumerate(nodes)))
        return [reply for reply in found if reply is not None]

    async def first(
        self,
        nodes: Iterable[Device],
        path_of: PathOf,
        headers: dict[str, str],
        *,
        method: str = "GET",
        params: dict[str, str] | None = None,
        found: tuple[int, ...] = (200, 204, 206, 304, 412, 416),
    ) -> Reply | None:
        """Ask replicas in turn: the first answer in ``found``, else the last one heard."""
        last: Reply | None = None
        for node in nodes:
            reply = await self.one(node, method, path_of(node), headers, params)
            if reply is None:
                continue
            if reply.status in found:
                return reply
            last = reply
        return last

    async def stream_put(
        self,
        nodes: list[Device],
        handoffs: Iterator[Device],
        path_of: PathOf,
        headers_of: HeadersOf,
        body: AsyncIterator[bytes],
    ) -> list[Reply]:
        """PUT one body to every replica at once: each replica gets every chunk.

        A replica whose node cannot be reached before its body starts moves to the
        next handoff; one that fails midway drops out, and the quorum decides. When
        the client's body breaks off, every node's upload is cut too and the error
        is raised.
        """
        queues = [asyncio.Queue[bytes | None | BaseException](maxsize=8) for _ in nodes]
        alive = [True] * len(nodes)
        started = [False] * len(nodes)

        async def feed() -> None:
            try:
                async for chunk in body:
                    for i, queue in enumerate(queues):
                        if alive[i]:
                            await queue.put(chunk)
            except BaseException as exc:
                for queue in queues:  # cut every upload: what is queued is dropped
                    while not queue.empty():
                        queue.get_nowait()
                    queue.put_nowait(exc)
                raise
            for i, queue in enumerate(queues):
                if alive[i]:
                    await queue.put(None)

        async def drain(i: int) -> AsyncIterator[bytes]:
            started[i] = True
            while True:
                item = await queues[i].get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise BodyBroken("the client's body broke off") from item
                yield item

        async def send(i: int, node: Device) -> Reply | None:
            try:
                while True:
                    try:
                        response = await self.client.put(
                            path_of(node), headers=headers_of(i), content=drain(i),
                            timeout=self.timeout,
                        )  # fmt: skip
                        return Reply(node, response.status_code, response.headers, response.content)
                    except httpx.HTTPError as exc:
                        LOG.info("PUT %s: %s", path_of(node), exc)
                        spare = None if started[i] else next(handoffs, None)
                        if spare is None:
                            return None
                        node = spare
            finally:
                alive[i] = False
                while not queues[i].empty():  # the feeder must not wait for a gone node
                    queues[i].get_nowait()

        feeder = asyncio.ensure_future(feed())
        try:
            replies = await asyncio.gather(*(send(i, n) for i, n in enumerate(nodes)))
        finally:
            if not feeder.done():
                feeder.cancel()
        if feeder.done() and not feeder.cancelled() and feeder.exception() is not None:
            raise BodyBroken("the client's body broke off") from feeder.exception()
        return [reply for reply in replies if reply is not None]


class BodyBroken(Exception):
    """The client's request body ended early or failed while it went to the nodes."""
