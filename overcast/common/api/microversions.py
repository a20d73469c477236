"""Microversions: the ``OpenStack-API-Version`` header, negotiated as Nova and Cinder do.

A request asks for a version with ``OpenStack-API-Version: compute 2.60`` (or a
service's legacy header, ``X-OpenStack-Nova-API-Version: 2.60``); ``latest``
means the highest the server has, and no header at all means the lowest. A
version outside the server's range is refused with a 406, a malformed one with
a 400. The answer carries the version that was used, and ``Vary`` on both
headers, so caches keep the variants apart.

Handlers read the negotiated version from ``context.version`` and compare it
with :class:`Version` values: ``if ctx.version >= V2_47: ...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overcast.common.api.errors import APIError, BadRequest, ErrorStyle
from overcast.common.api.middleware import send_error

_VERSION = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


class Version(NamedTuple):
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        """:raises ValueError: when ``text`` is not ``X.Y``."""
        match = _VERSION.match(text.strip())
        if match is None:
            raise ValueError(f"invalid version {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


class NotAcceptable(APIError):
    status = 406
    default_message = "The requested version is not supported."


@dataclass(frozen=True)
class Microversions:
    """A service's microversion range and the headers that select one."""

    service_type: str
    minimum: Version
    maximum: Version
    legacy_header: str | None = None
    """A header older clients send the bare version in (``X-OpenStack-Nova-API-Version``)."""

    def negotiate(self, headers: dict[str, str]) -> Version:
        """The version a request asks for.

        :raises BadRequest: when the header is malformed.
        :raises NotAcceptable: when the version is outside this service's range.
        """
        asked = self._asked(headers)
        if asked is None:
            return self.minimum
        if asked.lower() == "latest":
            return self.maximum
        try:
            version = Version.parse(asked)
        except ValueError:
            raise BadRequest(
                f"API Version String {asked} is of invalid format. Must be of format "
                "MajorNum.MinorNum."
            ) from None
        if not self.minimum <= version <= self.maximum:
            raise NotAcceptable(
                f"Version {version} is not supported by the API. Minimum is {self.minimum} "
                f"and maximum is {self.maximum}."
            )
        return version

    def _asked(self, headers: dict[str, str]) -> str | None:
        for value in headers.get("openstack-api-version", "").split(","):
            service, _, version = value.strip().partition(" ")
            if service.lower() == self.service_type and version.strip():
                return version.strip()
        if self.legacy_header:
            legacy = headers.get(self.legacy_header.lower(), "").strip()
            if legacy:
                return legacy
        return None

    def response_headers(self, version: Version) -> list[tuple[bytes, bytes]]:
        vary = "OpenStack-API-Version"
        headers = [(b"openstack-api-version", f"{self.service_type} {version}".encode())]
        if self.legacy_header:
            vary += f", {self.legacy_header}"
            headers.append((self.legacy_header.lower().encode(), str(version).encode()))
        headers.append((b"vary", vary.encode()))
        return headers


class MicroversionMiddleware:
    """Negotiates each request's version into ``context.version`` and states it in the answer."""

    def __init__(self, app: ASGIApp, versions: Microversions, errors: ErrorStyle) -> None:
        self.app = app
        self.versions = versions
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            version = self.versions.negotiate(headers)
        except APIError as exc:
            await send_error(send, exc, self.errors)
            return
        scope["state"]["context"].version = version
        extra = self.versions.response_headers(version)

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_version)
