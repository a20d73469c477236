"""The request bodies of the image API, described for the OpenAPI document (and the fuzzer).

Handlers read these bodies themselves (Glance's rules are not a pydantic model's);
these descriptions only say what a well-formed request looks like.
"""

from __future__ import annotations

from typing import Any

from overcast.common.config import ImageSettings
from overcast.image.metadefs import schemas as metadefs
from overcast.image.patch import DIALECTS, OPERATIONS
from overcast.image.schemas import MEMBER_STATUSES, TASK, Schemas

JSON = "application/json"
Body = tuple[str, dict[str, Any]]

IMAGE: Body = (JSON, Schemas(ImageSettings()).image)
PATCH: Body = (
    next(media for media, dialect in DIALECTS.items() if dialect == 10),
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "op": {"enum": list(OPERATIONS)},
                "path": {"type": "string"},
                "value": {},
            },
            "required": ["op", "path"],
        },
    },
)
DATA: Body = ("application/octet-stream", {"type": "string", "format": "binary"})
NEW_MEMBER: Body = (
    JSON,
    {"type": "object", "properties": {"member": {"type": "string"}}, "required": ["member"]},
)
MEMBER_STATUS: Body = (
    JSON,
    {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": MEMBER_STATUSES}},
        "required": ["status"],
    },
)
IMPORT: Body = (
    JSON,
    {
        "type": "object",
        "properties": {"method": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "required": ["method"],
    },
)
TASK_BODY: Body = (JSON, TASK)
NAMESPACE: Body = (JSON, metadefs.NAMESPACE)
OBJECT: Body = (JSON, metadefs.OBJECT)
PROPERTY: Body = (JSON, metadefs.PROPERTY)
TAG: Body = (JSON, metadefs.TAG)
TAGS: Body = (
    JSON,
    {"type": "object", "properties": {"tags": {"type": "array", "items": metadefs.TAG}}},
)
ASSOCIATION: Body = (JSON, metadefs.RESOURCE_TYPE_ASSOCIATION)
