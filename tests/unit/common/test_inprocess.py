"""The in-process transport: this process's servers answer without a socket, bodies stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from overcast.common.clients.inprocess import InProcessTransport, InternalClient

HERE = ("10.0.0.5", 6200)


class Echo:
    """Answers with the request's method, path, query and header, then its body in chunks."""

    def __init__(self) -> None:
        self.seen: list[Scope] = []
        self.cancelled = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append(scope)
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"].endswith("/fail"):
            raise RuntimeError("the app broke")
        head = f"{scope['method']} {scope['path']} {scope['query_string'].decode()}"
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-head", b"v")]})
        try:
            await send({"type": "http.response.body", "body": head.encode(), "more_body": True})
            for start in range(0, len(body), 4):
                chunk = body[start : start + 4]
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if scope["path"].endswith("/endless"):
                while True:
                    await send({"type": "http.response.body", "body": b"x", "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


class Network(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(str(request.url))
        return httpx.Response(204)


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def network() -> Network:
    return Network()


@pytest.fixture
async def client(echo: Echo, network: Network) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=InProcessTransport({HERE: echo}, network)) as client:
        yield client


async def test_a_local_server_answers_in_process_with_path_query_and_body(
    client: httpx.AsyncClient, echo: Echo, network: Network
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"abc", b"defgh"):
            yield part

    response = await client.put(
        "http://10.0.0.5:6200/sda/1/AUTH_a/c/o%20x%2Fy?format=json",
        content=chunks(),
        headers={"X-Timestamp": "1"},
    )
    assert response.status_code == 201
    assert response.headers["x-head"] == "v"
    assert response.content == b"PUT /sda/1/AUTH_a/c/o x/y format=jsonabcdefgh"
    scope = echo.seen[0]
    assert scope["raw_path"] == b"/sda/1/AUTH_a/c/o%20x%2Fy"
    assert (b"x-timestamp", b"1") in scope["headers"]
    assert network.asked == []


async def test_other_addresses_go_over_the_network(
    client: httpx.AsyncClient, echo: Echo, network: Network
) -> None:
    assert (await client.get("http://10.0.0.6:6200/sda/1/a")).status_code == 204
    assert (await client.get("http://10.0.0.5:6201/sda/1/a")).status_code == 204
    assert len(network.asked) == 2 and echo.seen == []


async def test_a_failing_app_is_a_transport_error(client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.TransportError, match="the app broke"):
        await client.get("http://10.0.0.5:6200/sda/1/fail")


async def test_a_reader_that_stops_early_stops_the_app(
    client: httpx.AsyncClient, echo: Echo
) -> None:
    async with client.stream("GET", "http://10.0.0.5:6200/sda/1/endless") as response:
        async for chunk in response.aiter_raw():
            assert chunk
            break
    await asyncio.wait_for(echo.cancelled.wait(), 5)


async def test_the_app_waits_for_a_slow_reader(echo: Echo, network: Network) -> None:
    """The app runs at most a few messages ahead: a large body is never all in memory."""
    sent: list[Message] = []

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        async def tally(message: Message) -> None:
            sent.append(message)
            await send(message)

        await echo(scope, receive, tally)

    transport = InProcessTransport({HERE: counting}, network)
    async with (
        httpx.AsyncClient(transport=transport) as client,
        client.stream("GET", "http://10.0.0.5:6200/sda/1/endless") as response,
    ):
        await asyncio.sleep(0.05)
        assert len(sent) < 20
        async for _ in response.aiter_raw():
            break


async def test_an_internal_client_keeps_no_cookies(echo: Echo) -> None:
    class Baker(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"})

    async with InternalClient(transport=Baker()) as client:
        await client.get("http://10.0.0.7/")
        assert not client.cookies
        second = client.build_request("GET", "http://10.0.0.7/")
        assert "cookie" not in second.headers
