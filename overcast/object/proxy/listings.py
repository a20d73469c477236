"""Account and container listings in Swift's three formats: plain text, JSON and XML.

The format comes from ``?format=`` or else the ``Accept`` header; plain text is
the default. Storage nodes send listings as JSON with times in seconds; clients
see ISO times (``2026-11-22T23:45:02.123450``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

FORMATS = {"json": "application/json", "xml": "application/xml", "plain": "text/plain"}


class NotAcceptable(ValueError):
    pass


def chosen_format(query: dict[str, str], accept: str | None) -> str:
    """``json``, ``xml`` or ``plain``.

    :raises NotAcceptable: when ``Accept`` names only types Swift cannot give (406).
    """
    wanted = (query.get("format") or "").lower()
    if wanted in FORMATS:
        return wanted
    if wanted in ("text/plain", "application/json", "application/xml", "text/xml"):
        return {"text/plain": "plain", "application/json": "json"}.get(wanted, "xml")
    if not accept:
        return "plain"
    for item in accept.split(","):
        media = item.split(";")[0].strip().lower()
        if media in ("application/json",):
            return "json"
        if media in ("application/xml", "text/xml"):
            return "xml"
        if media in ("text/plain", "text/*", "*/*", "application/*"):
            return "plain"
    raise NotAcceptable(accept)


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def render(entries: list[dict[str, Any]], fmt: str, *, kind: str, name: str) -> tuple[bytes, str]:
    """The body and content type of a listing of ``kind`` ("account" or "container")."""
    shown = [
        {**e, "last_modified": iso(e["last_modified"])} if "last_modified" in e else e
        for e in entries
    ]
    if fmt == "json":
        return json.dumps(shown).encode(), "application/json; charset=utf-8"
    if fmt == "xml":
        return _xml(shown, kind, name).encode(), "application/xml; charset=utf-8"
    text = "".join(f"{e.get('name', e.get('subdir'))}\n" for e in shown)
    return text.encode(), "text/plain; charset=utf-8"


def _xml(entries: list[dict[str, Any]], kind: str, name: str) -> str:
    item = "container" if kind == "account" else "object"
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', f"\n<{kind} name={quoteattr(name)}>"]
    for entry in entries:
        if "subdir" in entry:
            sub = escape(entry["subdir"])
            parts.append(f"<subdir name={quoteattr(entry['subdir'])}><name>{sub}</name></subdir>")
            continue
        fields = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in entry.items())
        parts.append(f"<{item}>{fields}</{item}>")
    parts.append(f"</{kind}>")
    return "".join(parts)
