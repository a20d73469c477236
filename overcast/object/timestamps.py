"""Swift's timestamps: when a write happened, which decides which copy of a thing wins.

Every write carries ``X-Timestamp`` from the proxy; on every replica the newest
timestamp wins, whether it is a PUT, a POST or a DELETE. The normal form is
ten digits, a point and five decimals (``1700000000.00000``); an internal form
adds ``_`` and a 16-hex-digit offset, for writes that must sort after another
with the same time (a tombstone placed right after its object, say).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import total_ordering

PRECISION = 100_000  # five decimals


class BadTimestamp(ValueError):
    """Text that is not a timestamp."""


@total_ordering
@dataclass(frozen=True)
class Timestamp:
    ticks: int
    """Hundred-thousandths of a second since the epoch."""
    offset: int = 0

    @classmethod
    def now(cls) -> Timestamp:
        return cls(int(time.time() * PRECISION))

    @classmethod
    def parse(cls, text: str | float) -> Timestamp:
        """``1700000000.12345``, ``1700000000.12345_000000000000000a`` or a number.

        :raises BadTimestamp: when it is neither.
        """
        if isinstance(text, float | int):
            return cls(round(text * PRECISION))
        value, _, offset = str(text).strip().partition("_")
        try:
            seconds = float(value)
            extra = int(offset, 16) if offset else 0
        except ValueError:
            raise BadTimestamp(f"{text!r} is not a timestamp") from None
        if not 0 <= seconds < 10**10 or extra < 0:  # NaN fails the range too
            raise BadTimestamp(f"{text!r} is not a timestamp")
        return cls(round(seconds * PRECISION), extra)

    @property
    def seconds(self) -> float:
        return self.ticks / PRECISION

    @property
    def normal(self) -> str:
        """The form clients see (``X-Timestamp``): ``1700000000.12345``."""
        return f"{self.ticks // PRECISION:010d}.{self.ticks % PRECISION:05d}"

    @property
    def internal(self) -> str:
        """The normal form, with the offset when there is one: what file names carry."""
        return f"{self.normal}_{self.offset:016x}" if self.offset else self.normal

    def bumped(self, by: int = 1) -> Timestamp:
        """The same time, sorting after this one."""
        return Timestamp(self.ticks, self.offset + by)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Timestamp):
            return NotImplemented
        return (self.ticks, self.offset) < (other.ticks, other.offset)

    def __str__(self) -> str:
        return self.internal
