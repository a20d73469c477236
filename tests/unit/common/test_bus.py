"""The bus: the same behaviour over the in-process driver and over RabbitMQ."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import pytest

from overcast.common.bus import (
    Bus,
    BusError,
    CallTimeout,
    Empty,
    Endpoint,
    ExpectedError,
    LocalBus,
    Message,
    Notification,
    RemoteError,
    Target,
    UnsupportedMessage,
    connect,
)
from overcast.common.bus.messages import decode, encode
from overcast.common.bus.relay import Hub, RelayBus, listen
from overcast.common.config import BusSettings
from tests.conftest import topic


class Add(Message):
    KIND: ClassVar[str] = "test.add"
    VERSION: ClassVar[tuple[int, int]] = (1, 1)
    a: int
    b: int = 0


class Sum(Message):
    KIND: ClassVar[str] = "test.sum"
    total: int
    by: str = ""


class Record(Message):
    KIND: ClassVar[str] = "test.record"
    value: str


class Crash(Message):
    KIND: ClassVar[str] = "test.crash"
    expected: bool


class Sleep(Message):
    KIND: ClassVar[str] = "test.sleep"
    seconds: float


class NoRoomLeft(ExpectedError):
    pass


def calculator(
    name: str, seen: list[str] | None = None, load: dict[str, int] | None = None
) -> Endpoint:
    endpoint = Endpoint()
    load = load if load is not None else {}

    @endpoint.on(Add)
    async def add(message: Add) -> Sum:
        return Sum(total=message.a + message.b, by=name)

    @endpoint.on(Record)
    async def record(message: Record) -> None:
        assert seen is not None
        seen.append(f"{name}:{message.value}")

    @endpoint.on(Crash)
    async def crash(message: Crash) -> None:
        if message.expected:
            raise NoRoomLeft("host h1 has no room for 4 VCPU")
        raise KeyError("bug")

    @endpoint.on(Sleep)
    async def sleep(message: Sleep) -> None:
        load["running"] = load.get("running", 0) + 1
        load["peak"] = max(load.get("peak", 0), load["running"])
        await asyncio.sleep(message.seconds)
        load["running"] -= 1

    return endpoint


async def eventually(check: object, seconds: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check() and asyncio.get_running_loop().time() < deadline:  # type: ignore[operator]
        await asyncio.sleep(0.02)


async def test_a_call_gets_its_reply(bus: Bus) -> None:
    name = topic()
    await bus.serve(name, calculator("s1"))
    reply = await bus.call(Target(name), Add(a=2, b=3), Sum)
    assert reply == Sum(total=5, by="s1")


async def test_calls_to_a_server_reach_that_server_and_topic_calls_are_shared(bus: Bus) -> None:
    name = topic()
    await bus.serve(name, calculator("s1"), server="h1")
    await bus.serve(name, calculator("s2"), server="h2")
    for _ in range(3):
        assert (await bus.call(Target(name, "h2"), Add(a=1), Sum)).by == "s2"
    served = {(await bus.call(Target(name), Add(a=1), Sum)).by for _ in range(40)}
    assert served == {"s1", "s2"}


async def test_a_cast_sent_before_any_server_waits_for_one(bus: Bus) -> None:
    name, seen = topic(), []
    await bus.cast(Target(name), Record(value="early"))
    await bus.serve(name, calculator("s1", seen))
    await eventually(lambda: seen)
    assert seen == ["s1:early"]


async def test_fanout_reaches_every_server_of_the_topic(bus: Bus) -> None:
    name, seen = topic(), []
    await bus.serve(name, calculator("s1", seen), server="h1")
    await bus.serve(name, calculator("s2", seen), server="h2")
    await bus.fanout(name, Record(value="all"))
    await eventually(lambda: len(seen) == 2)
    assert sorted(seen) == ["s1:all", "s2:all"]


async def test_each_listener_pool_hears_a_notification_once(bus: Bus) -> None:
    pool_a, pool_b = topic(), topic()
    heard: list[str] = []

    def listener(name: str):  # type: ignore[no-untyped-def]
        async def hear(event: Notification) -> None:
            heard.append(f"{name}:{event.event_type}:{event.payload['id']}")

        return hear

    await bus.listen(pool_a, listener("a1"))
    await bus.listen(pool_a, listener("a2"))
    await bus.listen(pool_b, listener("b"))
    event = Notification(
        event_type="compute.instance.create.end", publisher_id="compute.h1", payload={"id": "x"}
    )
    await bus.notify(event)
    await eventually(lambda: len(heard) >= 2)
    await asyncio.sleep(0.2)
    assert len([h for h in heard if h.startswith("a")]) == 1
    assert [h for h in heard if h.startswith("b")] == ["b:compute.instance.create.end:x"]


async def test_expected_errors_arrive_as_themselves_and_others_as_remote_errors(bus: Bus) -> None:
    name = topic()
    await bus.serve(name, calculator("s1"))
    with pytest.raises(NoRoomLeft, match="no room for 4 VCPU"):
        await bus.call(Target(name), Crash(expected=True), Empty)
    with pytest.raises(RemoteError, match=f"{name} .*failed: KeyError"):
        await bus.call(Target(name), Crash(expected=False), Empty)


async def test_a_call_nobody_answers_times_out_naming_the_callee(bus: Bus) -> None:
    name = topic()
    with pytest.raises(CallTimeout, match=f"no reply from {name}.h9 within 0.3 s"):
        await bus.call(Target(name, "h9"), Add(a=1), Sum, reply_within=0.3)


async def test_a_slow_handler_times_the_call_out_but_others_go_on(bus: Bus) -> None:
    name = topic()
    await bus.serve(name, calculator("s1"))
    with pytest.raises(CallTimeout):
        await bus.call(Target(name), Sleep(seconds=1), Empty, reply_within=0.2)
    assert (await bus.call(Target(name), Add(a=4), Sum)).total == 4


async def test_a_kind_the_server_does_not_handle_is_refused(bus: Bus) -> None:
    name = topic()
    await bus.serve(name, Endpoint())
    with pytest.raises(UnsupportedMessage, match=r"no handler for test\.add"):
        await bus.call(Target(name), Add(a=1), Sum)


async def test_stopping_a_server_finishes_what_it_took(bus: Bus) -> None:
    name = topic()
    consumer = await bus.serve(name, calculator("s1"))
    call = asyncio.ensure_future(bus.call(Target(name), Sleep(seconds=0.3), Empty))
    await asyncio.sleep(0.1)
    await consumer.stop()
    assert await call == Empty()


async def test_servers_handle_messages_concurrently(bus: Bus) -> None:
    name, load = topic(), {}
    await bus.serve(name, calculator("s1", load=load))
    await asyncio.gather(*(bus.call(Target(name), Sleep(seconds=0.3), Empty) for _ in range(20)))
    assert load["peak"] == 20


def test_a_newer_minor_version_is_refused_and_an_older_one_accepted() -> None:
    class AddV10(Message):
        KIND: ClassVar[str] = "test.add"
        VERSION: ClassVar[tuple[int, int]] = (1, 0)
        a: int

    class AddV12(Message):
        KIND: ClassVar[str] = "test.add"
        VERSION: ClassVar[tuple[int, int]] = (1, 2)
        a: int

    class AddV20(Message):
        KIND: ClassVar[str] = "test.add"
        VERSION: ClassVar[tuple[int, int]] = (2, 0)
        a: int

    assert decode(encode(AddV10(a=1)), Add) == Add(a=1)
    with pytest.raises(UnsupportedMessage, match=r"test.add 1.2 is not understood here .*1.1"):
        decode(encode(AddV12(a=1)), Add)
    with pytest.raises(UnsupportedMessage, match=r"2\.0"):
        decode(encode(AddV20(a=1)), Add)
    with pytest.raises(UnsupportedMessage, match="malformed"):
        decode(b'{"kind": "test.add", "version": "1.0", "body": {"a": "x"}}', Add)
    with pytest.raises(UnsupportedMessage, match="not a bus message"):
        decode(b"nonsense", Add)


async def test_an_unreachable_broker_is_a_clear_error() -> None:
    conf = BusSettings(driver="amqp", url="amqp://guest:secret@127.0.0.1:1/", connect_timeout=0.5)
    with pytest.raises(
        BusError, match=r"cannot reach RabbitMQ at amqp://guest@127.0.0.1:1/"
    ) as exc:
        await connect(conf)
    assert "secret" not in str(exc.value)


async def test_the_local_bus_is_the_default() -> None:
    assert isinstance(await connect(BusSettings()), LocalBus)


async def test_a_relayed_call_fails_when_the_first_worker_goes_and_works_with_its_successor() -> (
    None
):
    relay = listen()
    assert relay.sock is not None
    first = LocalBus()
    hub = Hub(first)
    await hub.start(relay.sock.dup())  # a worker gets its own copy of the parent's socket
    sender = RelayBus(relay.for_others().address, call_timeout=10)
    name = topic()
    await first.serve(name, calculator("first"))
    assert (await sender.call(Target(name), Add(a=1), Sum)).by == "first"
    call = asyncio.ensure_future(sender.call(Target(name), Sleep(seconds=1), Empty))
    await asyncio.sleep(0.1)
    await hub.close()  # as when the first worker dies: its end of the connection closes
    await first.close()
    with pytest.raises(BusError, match="went away"):
        await call
    successor = LocalBus()
    await successor.serve(name, calculator("successor"))
    hub = Hub(successor)
    await hub.start(relay.sock.dup())  # a worker gets its own copy of the parent's socket
    assert (await sender.call(Target(name), Add(a=1), Sum)).by == "successor"
    with pytest.raises(BusError, match="only the first worker serves"):
        await sender.serve(name, calculator("second"))
    await sender.close()
    await hub.close()
    await successor.close()
    relay.sock.close()
