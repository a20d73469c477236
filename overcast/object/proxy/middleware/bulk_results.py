"""The report of a many-object operation (bulk delete, bulk extract, a manifest's
delete), in Swift's shape: plain text by default, JSON or XML when asked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from xml.sax.saxutils import escape

from starlette.responses import Response

from overcast.object.proxy.listings import NotAcceptable, chosen_format


def reason(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


@dataclass
class Results:
    extract: bool = False
    """An archive's extraction (it reports files created) rather than a delete."""
    done: int = 0
    not_found: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    status: int = 200
    body: str = ""

    def count(self, name: str, status: int) -> None:
        """One object's outcome: done (2xx), not found (404, deletes) or an error."""
        if 200 <= status < 300:
            self.done += 1
        elif status == 404 and not self.extract:
            self.not_found += 1
        else:
            self.errors.append((name, reason(status)))

    def fail(self, status: int, body: str = "") -> None:
        """The whole operation failed (a bad archive, too many items...)."""
        self.status, self.body = status, body

    def fields(self) -> dict[str, object]:
        status = self.status if self.status != 200 or not self.errors else 400
        shown: dict[str, object] = {}
        if self.extract:
            shown["Number Files Created"] = self.done
        else:
            shown |= {"Number Deleted": self.done, "Number Not Found": self.not_found}
        return shown | {
            "Response Body": self.body,
            "Response Status": reason(status),
            "Errors": [list(error) for error in self.errors],
        }

    def response(self, accept: str | None) -> Response:
        try:
            fmt = chosen_format({}, accept)
        except NotAcceptable:
            fmt = "plain"
        fields = self.fields()
        if fmt == "json":
            return Response(json.dumps(fields), media_type="application/json")
        if fmt == "xml":
            tag = "extract" if self.extract else "delete"
            items = "".join(f"<{_tag(k)}>{escape(_text(v))}</{_tag(k)}>" for k, v in fields.items())
            body = f'<?xml version="1.0" encoding="UTF-8"?>\n<{tag}>{items}</{tag}>'
            return Response(body, media_type="application/xml")
        lines = [f"{k}: {_text(v)}" for k, v in fields.items()]
        return Response("\n".join(lines) + "\n", media_type="text/plain")


def _tag(name: str) -> str:
    return name.lower().replace(" ", "_")


def _text(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(f"{name}, {status}" for name, status in value)
    return str(value)
