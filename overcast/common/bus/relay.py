"""The in-process bus of the first worker, reached by the other workers of the host.

With ``--workers N`` and the in-process bus, the engines (conductor, scheduler,
compute agent) serve on the first worker's :class:`~overcast.common.bus.LocalBus`,
and the compute API runs in the other workers, each on the second core and up.
Their calls, casts, fanouts and notifications cross a Unix stream socket that the
parent binds before it starts any worker (:func:`listen`), so a worker can send
from its first request on, and a replaced first worker takes over the same socket.

A frame is a header and two byte strings: the queue (or topic, or event type)
and the encoded message; a reply frame carries a call's reply or why it failed.
For a sender the semantics are the local bus's: a cast is queued in the first
worker once written (a local stream socket is reliable while both ends live);
a call waits for its reply or its timeout. Serving happens in the first worker
only: a relayed bus refuses ``serve`` and ``listen``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import struct
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from overcast.common.bus.base import Bus, Consumer, Endpoint, Listener
from overcast.common.bus.local import LocalBus
from overcast.common.bus.messages import BusError, CallTimeout

LOG = logging.getLogger(__name__)

_CALL, _CAST, _FANOUT, _NOTIFY = range(4)
_OK, _TIMED_OUT, _FAILED = range(3)
_REQUEST = struct.Struct("!BIdII")
"""op, call id, seconds to wait for the reply, queue length, message length."""
_REPLY = struct.Struct("!IBI")
"""call id, outcome, reply length."""


@dataclass(frozen=True)
class Relay:
    """Where the workers of one host meet: a listening socket, for the first worker only."""

    address: str
    sock: socket.socket | None = None

    @property
    def is_hub(self) -> bool:
        return self.sock is not None

    def for_others(self) -> Relay:
        return Relay(self.address)


def listen() -> Relay:
    """A fresh relay socket (in the abstract namespace: no file to clean up)."""
    address = f"\0overcast-bus-{os.getpid()}-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(address)
    sock.listen(64)
    sock.set_inheritable(True)
    return Relay(address, sock)


class Hub:
    """Serves the relay socket: hands what other workers send to this worker's local bus."""

    def __init__(self, bus: LocalBus) -> None:
        self.bus = bus
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._peers: set[asyncio.StreamWriter] = set()

    async def start(self, sock: socket.socket) -> None:
        self._server = await asyncio.start_unix_server(self._serve, sock=sock)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._peers.add(writer)
        try:
            while True:
                op, call_id, within, queue_size, size = _REQUEST.unpack(
                    await reader.readexactly(_REQUEST.size)
                )
                queue = (await reader.readexactly(queue_size)).decode()
                data = await reader.readexactly(size)
                if op == _CALL:
                    self._spawn(self._answer(writer, call_id, queue, data, within))
                elif op == _CAST:
                    await self.bus._publish(queue, data)
                elif op == _FANOUT:
                    await self.bus._publish_fanout(queue, data)
                else:
                    await self.bus._publish_notification(queue, data)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the other worker went away; its pending calls fail there
        finally:
            self._peers.discard(writer)
            writer.close()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(
        self, writer: asyncio.StreamWriter, call_id: int, queue: str, data: bytes, within: float
    ) -> None:
        try:
            reply, outcome = await self.bus._request(queue, data, within), _OK
        except CallTimeout as exc:
            reply, outcome = str(exc).encode(), _TIMED_OUT
        except Exception as exc:  # the caller sees it as a bus failure, not a hang
            LOG.exception("relayed call to %s failed", queue)
            reply, outcome = str(exc).encode(), _FAILED
        if not writer.is_closing():
            writer.write(_REPLY.pack(call_id, outcome, len(reply)) + reply)

    async def close(self) -> None:
        """Stop serving; the other workers' pending calls fail, as when this one dies."""
        if self._server is not None:
            self._server.close()
        for peer in list(self._peers):
            peer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class RelayBus(Bus):
    """A bus that sends everything to the first worker's local bus, through the relay."""

    def __init__(self, address: str, *, call_timeout: float = 60, prefetch: int = 64) -> None:
        super().__init__(call_timeout=call_timeout, prefetch=prefetch)
        self.address = address
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._connecting = asyncio.Lock()
        self._pending: dict[int, asyncio.Future[bytes]] = {}
        self._next_id = 0

    async def _connection(self) -> asyncio.StreamWriter:
        if self._writer is not None and not self._writer.is_closing():
            return self._writer
        async with self._connecting:
            if self._writer is None or self._writer.is_closing():
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    # A local connect completes at once (the parent's socket listens), and
                    # uvloop takes abstract addresses only as a connected socket.
                    sock.connect(self.address)
                    sock.setblocking(False)
                    reader, self._writer = await asyncio.open_unix_connection(sock=sock)
                except OSError as exc:
                    sock.close()
                    raise BusError(f"cannot reach the first worker's bus: {exc}") from exc
                self._reading = asyncio.ensure_future(self._read_replies(reader))
            return self._writer

    async def _read_replies(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                call_id, outcome, size = _REPLY.unpack(await reader.readexactly(_REPLY.size))
                data = await reader.readexactly(size)
                future = self._pending.pop(call_id, None)
                if future is None or future.done():
                    continue
                if outcome == _OK:
                    future.set_result(data)
                elif outcome == _TIMED_OUT:
                    future.set_exception(CallTimeout(data.decode()))
                else:
                    future.set_exception(BusError(f"the first worker's bus: {data.decode()}"))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self._writer is not None:
                self._writer.close()
            pending, self._pending = self._pending, {}
            for future in pending.values():
                if not future.done():
                    future.set_exception(BusError("the first worker's bus went away"))

    async def _send(
        self, op: int, queue: str, data: bytes, call_id: int = 0, within: float = 0
    ) -> None:
        name = queue.encode()
        writer = await self._connection()
        writer.write(_REQUEST.pack(op, call_id, within, len(name), len(data)) + name + data)
        await writer.drain()

    async def _request(self, queue: str, data: bytes, within: float) -> bytes:
        self._next_id = (self._next_id + 1) % 2**32
        call_id = self._next_id
        reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = reply
        try:
            await self._send(_CALL, queue, data, call_id, within)
            # The first worker times the call out; this only guards against losing it.
            return await asyncio.wait_for(reply, within + 5)
        except TimeoutError:
            raise CallTimeout(f"no reply from {queue} within {within:g} s") from None
        finally:
            self._pending.pop(call_id, None)

    async def _publish(self, queue: str, data: bytes) -> None:
        await self._send(_CAST, queue, data)

    async def _publish_fanout(self, topic: str, data: bytes) -> None:
        await self._send(_FANOUT, topic, data)

    async def _publish_notification(self, event_type: str, data: bytes) -> None:
        await self._send(_NOTIFY, event_type, data)

    async def serve(self, topic: str, endpoint: Endpoint, *, server: str | None = None) -> Consumer:
        raise BusError(f"{topic}: only the first worker serves the in-process bus")

    async def listen(self, pool: str, listener: Listener) -> Consumer:
        raise BusError(f"{pool}: only the first worker listens on the in-process bus")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
