"""HTTP byte ranges as Swift serves them (RFC 7233).

A ``Range`` header that does not parse is ignored (the whole body, 200); one
that parses but asks only for bytes past the end is unsatisfiable (416). Many
ranges are answered as ``multipart/byteranges``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
MAX_RANGES = 50


class Unsatisfiable(Exception):
    """Every range asked for starts past the end of the body."""


def parse(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """``(start, end)`` pairs (end exclusive) for a body of ``size`` bytes, or None (whole).

    :raises Unsatisfiable: when the header is valid but no range fits the body.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec:
        return None
    wanted: list[tuple[int, int]] = []
    pieces = spec.split(",")
    if len(pieces) > MAX_RANGES:
        return None
    for piece in pieces:
        match = RANGE.match(piece)
        if match is None:
            return None
        first, last = match.groups()
        if not first and not last:
            return None
        if not first:  # the last N bytes
            count = int(last)
            if count == 0:
                continue
            wanted.append((max(size - count, 0), size))
            continue
        start = int(first)
        if last and int(last) < start:
            return None  # "bytes=5-2" is not a range: the header is ignored
        end = int(last) + 1 if last else size
        if start < size:
            wanted.append((start, min(end, size)))
    if not wanted:
        raise Unsatisfiable()
    return wanted


def content_range(start: int, end: int, size: int) -> str:
    return f"bytes {start}-{end - 1}/{size}"


def boundary() -> str:
    return secrets.token_hex(16)


def multipart_parts(
    ranges: list[tuple[int, int]], size: int, content_type: str, mark: str
) -> Iterator[tuple[bytes, tuple[int, int] | None]]:
    """The pieces of a ``multipart/byteranges`` body: (text, None) or ("", a range to copy)."""
    for start, end in ranges:
        head = (
            f"--{mark}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: {content_range(start, end, size)}\r\n\r\n"
        )
        yield head.encode(), None
        yield b"", (start, end)
        yield b"\r\n", None
    yield f"--{mark}--".encode(), None
