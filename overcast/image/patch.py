"""Reading ``PATCH /v2/images/{id}`` bodies: JSON-patch in Glance's two dialects.

``application/openstack-images-v2.1-json-patch`` is RFC 6902 (draft 10):
``{"op": "replace", "path": "/name", "value": "x"}``. The older
``application/openstack-images-v2.0-json-patch`` (draft 4) names the operation by
its key: ``{"replace": "/name", "value": "x"}``; its ``add`` refuses to overwrite.
Paths are JSON pointers one level deep (``/locations/N`` is the one deeper form).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from overcast.common.api.errors import BadRequest, UnsupportedMediaType

DIALECTS = {
    "application/openstack-images-v2.0-json-patch": 4,
    "application/openstack-images-v2.1-json-patch": 10,
}
OPERATIONS = ("add", "remove", "replace")
_DEPTH = {"locations": {"add": 2, "remove": 2, "replace": 1}}
_BAD_ESCAPE = re.compile(r"~[^01]|~$")
_MISSING = object()


@dataclass(frozen=True)
class Change:
    op: str
    path: tuple[str, ...]
    value: Any
    dialect: int

    @property
    def root(self) -> str:
        return self.path[0]


def parse_patch(content_type: str | None, body: bytes) -> list[Change]:
    """The changes a PATCH body asks for.

    :raises UnsupportedMediaType: for another content type (with ``Accept-Patch``).
    :raises BadRequest: when the body is not a list of well-formed operations.
    """
    media = (content_type or "").split(";")[0].strip().lower()
    dialect = DIALECTS.get(media)
    if dialect is None:
        raise UnsupportedMediaType(
            f"Unsupported Content-Type {media or '(none)'!r} for an image update.",
            headers={"Accept-Patch": ", ".join(sorted(DIALECTS))},
        )
    try:
        document = orjson.loads(body) if body.strip() else _MISSING
    except orjson.JSONDecodeError:
        raise BadRequest("Malformed JSON in request body.") from None
    if document is _MISSING:
        raise BadRequest("Body expected in request.")
    if not isinstance(document, list):
        raise BadRequest("Request body must be a JSON array of operation objects.")
    return [_change(raw, dialect) for raw in document]


def _change(raw: Any, dialect: int) -> Change:
    if not isinstance(raw, dict):
        raise BadRequest("Operations must be JSON objects.")
    op, pointer = _op_and_path_d10(raw) if dialect == 10 else _op_and_path_d4(raw)
    if not isinstance(pointer, str):
        raise BadRequest("The path of an operation must be a string.")
    path = decode_pointer(pointer)
    wanted = _DEPTH.get(path[0], {}).get(op, 1)
    if len(path) != wanted:
        raise BadRequest(f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
    value = None
    if op != "remove":
        if "value" not in raw:
            raise BadRequest(f'Operation "{op}" requires a member named "value".')
        value = raw["value"]
    return Change(op, path, value, dialect)


def _op_and_path_d10(raw: dict[str, Any]) -> tuple[str, Any]:
    op = raw.get("op")
    if op is None:
        raise BadRequest(
            "Unable to find `op` in JSON Schema change. "
            f"It must be one of the following: {', '.join(OPERATIONS)}."
        )
    if op not in OPERATIONS:
        raise BadRequest(
            f"Invalid operation: `{op}`. It must be one of the following: {', '.join(OPERATIONS)}."
        )
    if "path" not in raw:
        raise BadRequest("Unable to find 'path' in JSON Schema change")
    return op, raw["path"]


def _op_and_path_d4(raw: dict[str, Any]) -> tuple[str, Any]:
    present = [op for op in OPERATIONS if op in raw]
    if len(present) != 1:
        raise BadRequest(
            'Operation objects must contain exactly one member named "add", "remove", or "replace".'
        )
    return present[0], raw[present[0]]


def decode_pointer(pointer: str) -> tuple[str, ...]:
    """The parts of a JSON pointer (``/a~1b`` is ``("a/b",)``).

    :raises BadRequest: for a pointer outside the small form Glance accepts.
    """
    if not pointer.startswith("/"):
        raise BadRequest(f'Pointer `{pointer}` does not start with "/".')
    if re.search(r"/\s*?/", pointer[1:]):
        raise BadRequest(f'Pointer `{pointer}` contains adjacent "/".')
    if len(pointer) > 1 and pointer.endswith("/"):
        raise BadRequest(f'Pointer `{pointer}` end with "/".')
    if pointer[1:].strip() in ("", "/"):
        raise BadRequest(f"Pointer `{pointer}` does not contains valid token.")
    if _BAD_ESCAPE.search(pointer):
        raise BadRequest(
            f'Pointer `{pointer}` contains "~" not part of a recognized escape sequence.'
        )
    return tuple(
        part.replace("~1", "/").replace("~0", "~").strip() for part in pointer[1:].split("/")
    )
