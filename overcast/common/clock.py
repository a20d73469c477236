"""An injectable clock, so that tests and simulations can drive time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ShiftedClock(SystemClock):
    """Real time, moved forward by however much a test asks (lockouts, expiry)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return super().now() + self.offset

    def monotonic(self) -> float:
        return super().monotonic() + self.offset.total_seconds()

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def isotime(moment: datetime, *, subsecond: bool = True) -> str:
    """OpenStack's ISO-8601 form: ``2026-11-22T13:34:40.000000Z``."""
    moment = moment.astimezone(UTC)
    if subsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_isotime(text: str) -> datetime:
    """Parse an ISO-8601 time; a time without a zone is taken as UTC.

    :raises ValueError: when ``text`` is not an ISO-8601 time.
    """
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
