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

from overcast.object import together
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
        *,
        together: bool = False,
    ) -> list[Reply]:
        """The same small request (``content``: its body) to every replica; a node that
        fails gives way to a handoff. With ``together``, the replicas that share a node
        go to it in one request (an object PUT: see :mod:`overcast.object.together`)."""
        replies: list[Reply] = []
        going = list(enumerate(nodes))
        while going:
            groups = by_node(going) if together else [[one] for one in going]
            sent = await asyncio.gather(
                *(self._together(method, g, path_of, headers_of, content) for g in groups)
            )
            going = []
            for group, answers in zip(groups, sent, strict=True):
                for (index, _), reply in zip(group, answers, strict=True):
                    if reply is not None:
                        replies.append(reply)
                    elif (spare := next(handoffs, None)) is not None:
                        going.append((index, spare))
        return replies

    async def _together(
        self,
        method: str,
        group: list[Placed],
        path_of: PathOf,
        headers_of: HeadersOf,
        content: bytes | AsyncIterator[bytes] | None,
    ) -> list[Reply | None]:
        """One request for the replicas of ``group`` (all on one node): each one's answer,
        None where it failed.

        :raises httpx.HTTPError: when the node cannot be reached with a streamed body.
        """
        (first, node), others = group[0], group[1:]
        headers = together.ask(
            headers_of(first), [(device.device, headers_of(i)) for i, device in others]
        )
        url = path_of(node)
        if isinstance(content, bytes) or content is None:
            try:
                response = await self.client.request(
                    method, url, headers=headers, content=content, timeout=self.timeout
                )
            except httpx.HTTPError as exc:
                LOG.info("%s %s: %s", method, url, exc)
                return [None] * len(group)
        else:
            response = await self.client.request(
                method, url, headers=headers, content=content, timeout=self.timeout
            )
        return _answers(group, response)

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
        """PUT one body to every replica at once: each node gets every chunk, once for
        all the replicas it holds.

        A replica whose node cannot be reached before its body starts moves to the
        next handoff; one that fails midway drops out, and the quorum decides. When
        the client's body breaks off, every node's upload is cut too and the error
        is raised.
        """
        source = _Stream()

        async def feed() -> None:
            try:
                async for chunk in body:
                    await source.put(chunk)
            except BaseException as exc:
                source.fail(exc)  # cut every upload: what is queued is dropped
                raise
            await source.put(None)

        feeder = asyncio.ensure_future(feed())
        try:
            placed = list(enumerate(nodes))
            found = await self._stream_to(placed, source, handoffs, path_of, headers_of)
        finally:
            if not feeder.done():
                feeder.cancel()
        if feeder.done() and not feeder.cancelled() and feeder.exception() is not None:
            raise BodyBroken("the client's body broke off") from feeder.exception()
        return [reply for reply in found if reply is not None]

    async def _stream_to(
        self,
        placed: list[Placed],
        source: _Stream,
        handoffs: Iterator[Device],
        path_of: PathOf,
        headers_of: HeadersOf,
    ) -> list[Reply | None]:
        """The body from ``source`` to the ``placed`` replicas: one request per node,
        each fed its own copy of the chunks when there are several nodes."""
        groups = by_node(placed)
        try:
            if len(groups) > 1:
                branches = [_Stream() for _ in groups]
                tee = asyncio.ensure_future(_tee(source, branches))
                try:
                    found = await asyncio.gather(
                        *(
                            self._stream_to(g, b, handoffs, path_of, headers_of)
                            for g, b in zip(groups, branches, strict=True)
                        )
                    )
                finally:
                    tee.cancel()
                return [reply for replies in found for reply in replies]
            try:
                return await self._together("PUT", placed, path_of, headers_of, source.chunks())
            except httpx.HTTPError as exc:
                LOG.info("PUT %s: %s", path_of(placed[0][1]), exc)
                if source.started:
                    return [None] * len(placed)
            # no chunk has gone yet: the replicas move on to handoffs, with every chunk
            spares = [(index, next(handoffs, None)) for index, _ in placed]
            moved = [(index, spare) for index, spare in spares if spare is not None]
            gone: list[Reply | None] = [None] * (len(placed) - len(moved))
            if not moved:
                return gone
            return await self._stream_to(moved, source, handoffs, path_of, headers_of) + gone
        finally:
            source.stop()


Placed = tuple[int, Device]
"""A replica's index and the device it goes to."""


def by_node(placed: list[Placed]) -> list[list[Placed]]:
    """The replicas grouped by the node (address and port) that holds their devices."""
    groups: dict[tuple[str, int], list[Placed]] = {}
    for index, device in placed:
        groups.setdefault((device.ip, device.port), []).append((index, device))
    return list(groups.values())


def _answers(group: list[Placed], response: httpx.Response) -> list[Reply | None]:
    """Each replica's reply from a node's answer to the request for ``group``."""
    nodes = [device for _, device in group]
    if len(group) > 1 and together.ANSWERED.lower() in response.headers:
        each = together.answers(response.content, len(group))
        if each is not None:
            return [
                Reply(node, status, httpx.Headers(headers)) if status < 500 else None
                for node, (status, headers) in zip(nodes, each, strict=True)
            ]
        LOG.info("PUT %s: an answer for several replicas that is not one", response.url)
        return [None] * len(group)
    if response.status_code >= 500:
        LOG.info("%s %s: %s", response.request.method, response.url, response.status_code)
        return [None] * len(group)
    return [Reply(node, response.status_code, response.headers, response.content) for node in nodes]


class _Stream:
    """The chunks of a body on their way to one request (None ends them)."""

    def __init__(self) -> None:
        self.queue = asyncio.Queue[bytes | None | BaseException](maxsize=8)
        self.alive = True
        self.started = False

    async def put(self, item: bytes | None) -> None:
        if self.alive:
            await self.queue.put(item)

    def fail(self, exc: BaseException) -> None:
        """Cut the body: what is queued is dropped, and the reader gets ``exc``."""
        self._drop()
        self.queue.put_nowait(exc)

    def stop(self) -> None:
        """Nobody reads any more: drop what is queued, and take no more."""
        self.alive = False
        self._drop()

    def _drop(self) -> None:
        while not self.queue.empty():  # the writer must not wait for a gone reader
            self.queue.get_nowait()

    async def chunks(self) -> AsyncIterator[bytes]:
        self.started = True
        while True:
            item = await self.queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise BodyBroken("the client's body broke off") from item
            yield item


async def _tee(source: _Stream, branches: list[_Stream]) -> None:
    """Every chunk of ``source`` to every branch still read."""
    try:
        async for chunk in source.chunks():
            for branch in branches:
                await branch.put(chunk)
    except BodyBroken as exc:
        for branch in branches:
            branch.fail(exc)
        return
    for branch in branches:
        await branch.put(None)


class BodyBroken(Exception):
    """The client's request body ended early or failed while it went to the nodes."""
