"""Typed, versioned messages and the envelope they travel in.

Every message is a pydantic model with a ``KIND`` (what it asks or tells, e.g.
``compute.build_instance``) and a ``VERSION`` (major, minor). A receiver accepts a
message of the same major version and a minor version no newer than its own:
senders add optional fields in a minor version, and anything else is a new major
version. Both drivers send the same bytes, so the in-process bus checks exactly
what RabbitMQ would carry.

Errors a handler means its caller to see (a build that found no host) subclass
:class:`ExpectedError`: the caller gets the same class back. Any other failure
reaches the caller as :class:`RemoteError`, and is logged where it happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    KIND: ClassVar[str]
    VERSION: ClassVar[tuple[int, int]] = (1, 0)


class Empty(Message):
    """The reply of a call that only needs to know the work was done."""

    KIND: ClassVar[str] = "empty"


class Notification(Message):
    """An event other parts of the cloud (telemetry, other services) may listen to."""

    KIND: ClassVar[str] = "notification"
    event_type: str
    publisher_id: str
    priority: str = "INFO"
    payload: dict[str, Any] = {}


M = TypeVar("M", bound=Message)


class BusError(Exception):
    """The bus could not deliver a message or its reply; the message says which."""


class CallTimeout(BusError):
    """No reply in time."""


class RemoteError(BusError):
    """The handler failed with an error its caller was not meant to handle."""


class UnsupportedMessage(BusError):
    """The receiver does not understand this kind or version of message."""


class ExpectedError(Exception):
    """An error a handler raises for its caller; it is raised again, same class, there."""

    registry: ClassVar[dict[str, type[ExpectedError]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ExpectedError.registry[cls.__name__] = cls


@dataclass(frozen=True)
class Target:
    """Where a message goes: every server of ``topic`` (one of them takes it), or one server."""

    topic: str
    server: str | None = None

    @property
    def queue(self) -> str:
        return self.topic if self.server is None else f"{self.topic}.{self.server}"

    def __str__(self) -> str:
        return self.queue


def encode(message: Message) -> bytes:
    major, minor = message.VERSION
    return orjson.dumps(
        {
            "kind": message.KIND,
            "version": f"{major}.{minor}",
            "body": message.model_dump(mode="json"),
        }
    )


def decode_kind(data: bytes) -> tuple[str, tuple[int, int], dict[str, Any]]:
    """The kind, version and body of an encoded message.

    :raises UnsupportedMessage: when ``data`` is not an envelope.
    """
    try:
        envelope = orjson.loads(data)
        major, minor = (int(part) for part in envelope["version"].split("."))
        return str(envelope["kind"]), (major, minor), dict(envelope["body"])
    except (orjson.JSONDecodeError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise UnsupportedMessage(f"not a bus message: {exc}") from None


def decode(data: bytes, expected: type[M]) -> M:
    """``data`` as an ``expected`` message.

    :raises UnsupportedMessage: when it is another kind, a version this side does not
        speak, or its body does not fit the model.
    """
    kind, version, body = decode_kind(data)
    check_version(kind, version, expected)
    try:
        return expected.model_validate(body)
    except ValidationError as exc:
        raise UnsupportedMessage(f"{kind} {_text(version)} is malformed: {exc}") from None


def check_version(kind: str, version: tuple[int, int], expected: type[Message]) -> None:
    if kind != expected.KIND:
        raise UnsupportedMessage(f"expected {expected.KIND}, got {kind}")
    major, minor = expected.VERSION
    if version[0] != major or version[1] > minor:
        raise UnsupportedMessage(
            f"{kind} {_text(version)} is not understood here (this side speaks {major}.{minor})"
        )


def encode_reply(reply: Message) -> bytes:
    return orjson.dumps({"ok": True, "reply": orjson.loads(encode(reply))})


def encode_failure(exc: BaseException) -> bytes:
    name = type(exc).__name__
    if isinstance(exc, ExpectedError | UnsupportedMessage):
        kind = name if isinstance(exc, ExpectedError) else "UnsupportedMessage"
        return orjson.dumps({"ok": False, "error": {"type": kind, "message": str(exc)}})
    return orjson.dumps(
        {"ok": False, "error": {"type": "RemoteError", "message": f"{name}: {exc}"}}
    )


def decode_reply(data: bytes, expected: type[M], callee: str) -> M:
    """The reply in ``data``, or the error it carries raised.

    :raises ExpectedError: (its subclass) when the handler raised one.
    :raises RemoteError: when the handler failed otherwise.
    :raises UnsupportedMessage: when the callee did not understand the call or the
        reply is not an ``expected``.
    """
    try:
        envelope = orjson.loads(data)
        ok = bool(envelope["ok"])
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise UnsupportedMessage(f"{callee} sent a reply that is not one: {exc}") from None
    if ok:
        return decode(orjson.dumps(envelope["reply"]), expected)
    error = envelope.get("error") or {}
    kind, text = str(error.get("type")), str(error.get("message"))
    if kind in ExpectedError.registry:
        raise ExpectedError.registry[kind](text)
    if kind == "UnsupportedMessage":
        raise UnsupportedMessage(f"{callee}: {text}")
    raise RemoteError(f"{callee} failed: {text}")


def _text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"
