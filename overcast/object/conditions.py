"""Conditional requests (RFC 7232) on an object's ETag and Last-Modified time."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime


def _etags(value: str) -> set[str]:
    return {tag.strip().removeprefix("W/").strip('"') for tag in value.split(",") if tag.strip()}


def _date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # an unparsable date is ignored, as in Swift


def evaluate(
    headers: Mapping[str, str], etag: str, last_modified: float, *, reading: bool
) -> int | None:
    """The status the conditions call for (412 or 304), or None to go on.

    ``last_modified`` is in whole seconds (as Last-Modified shows it).
    """
    if_match = headers.get("if-match")
    if if_match is not None and "*" not in _etags(if_match) and etag not in _etags(if_match):
        return 412
    unmodified = _date(headers.get("if-unmodified-since"))
    if if_match is None and unmodified is not None and last_modified > unmodified:
        return 412
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = _etags(if_none_match)
        if "*" in tags or etag in tags:
            return 304 if reading else 412
        return None
    modified = _date(headers.get("if-modified-since"))
    if reading and modified is not None and last_modified <= modified:
        return 304
    return None
