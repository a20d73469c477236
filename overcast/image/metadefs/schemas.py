"""The JSON schemas of metadata definitions (``/v2/schemas/metadefs/*``).

A metadata definition namespace describes properties that other resources
(images, flavors, volumes ...) may carry; the dashboards read them to offer
typed forms. Request bodies are validated against these same documents.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from overcast.common.api.errors import BadRequest, Forbidden
from overcast.image.schemas import collection, validate

JSON_TYPES = ["array", "boolean", "integer", "number", "object", "string", None]
TIMESTAMP = {"type": "string", "format": "date-time", "readOnly": True}

PROPERTY_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "maxLength": 255},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "operators": {"type": "array", "items": {"type": "string"}},
    "type": {"type": "string", "enum": JSON_TYPES},
    "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    "minimum": {"type": "number"},
    "maximum": {"type": "number"},
    "maxLength": {"type": "integer", "minimum": 0},
    "minLength": {"type": "integer", "minimum": 0},
    "pattern": {"type": "string", "format": "regex"},
    "enum": {"type": "array"},
    "readonly": {"type": "boolean"},
    "default": {},
    "items": {
        "type": "object",
        "properties": {"type": {"type": "string", "enum": JSON_TYPES}, "enum": {"type": "array"}},
    },
    "maxItems": {"type": "integer", "minimum": 0},
    "minItems": {"type": "integer", "minimum": 0},
    "uniqueItems": {"type": "boolean"},
    "additionalItems": {"type": "boolean"},
}
PROPERTY_MAP = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "required": ["title", "type"],
        "properties": PROPERTY_FIELDS,
    },
}

RESOURCE_TYPE_ASSOCIATION = {
    "name": "resource_type_association",
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 80},
        "prefix": {"type": "string", "maxLength": 80},
        "properties_target": {"type": "string", "maxLength": 80},
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    "required": ["name"],
    "additionalProperties": False,
}

PROPERTY = {
    "name": "property",
    "type": "object",
    "properties": PROPERTY_FIELDS,
    "required": ["name", "title", "type"],
    "additionalProperties": False,
}

OBJECT = {
    "name": "object",
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 255},
        "description": {"type": "string"},
        "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "properties": PROPERTY_MAP,
        "schema": {"type": "string", "readOnly": True},
        "self": {"type": "string", "readOnly": True},
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    "required": ["name"],
    "additionalProperties": False,
}

TAG = {
    "name": "tag",
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 255},
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    "required": ["name"],
    "additionalProperties": False,
}

NAMESPACE = {
    "name": "namespace",
    "type": "object",
    "properties": {
        "namespace": {"type": "string", "maxLength": 80, "description": "The unique name."},
        "display_name": {"type": "string", "maxLength": 80},
        "description": {"type": "string", "maxLength": 500},
        "visibility": {"type": "string", "enum": ["public", "private"]},
        "protected": {"type": "boolean", "description": "If true, it cannot be deleted."},
        "owner": {"type": "string", "maxLength": 255},
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "schema": {"type": "string", "readOnly": True},
        "self": {"type": "string", "readOnly": True},
        "resource_type_associations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "prefix": {"type": "string"},
                    "properties_target": {"type": "string"},
                },
                "required": ["name"],
            },
        },
        "properties": PROPERTY_MAP,
        "objects": {"type": "array", "items": OBJECT},
        "tags": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string", "maxLength": 255}},
                "required": ["name"],
            },
        },
    },
    "required": ["namespace"],
    "additionalProperties": False,
}

DOCUMENTS: dict[str, dict[str, Any]] = {
    "namespace": NAMESPACE,
    "namespaces": collection("namespaces", NAMESPACE),
    "resource_type": RESOURCE_TYPE_ASSOCIATION,
    "resource_types": collection(
        "resource_type_associations",
        RESOURCE_TYPE_ASSOCIATION,
        items_key="resource_type_associations",
    ),
    "object": OBJECT,
    "objects": collection("objects", OBJECT),
    "property": PROPERTY,
    "properties": {"name": "properties", "properties": {"properties": PROPERTY_MAP}},
    "tag": TAG,
    "tags": collection("tags", TAG),
}

_VALIDATORS = {
    name: jsonschema.Draft4Validator(document)
    for name, document in (
        ("namespace", NAMESPACE),
        ("object", OBJECT),
        ("property", PROPERTY),
        ("tag", TAG),
        ("resource_type_association", RESOURCE_TYPE_ASSOCIATION),
    )
}
READ_ONLY = ("created_at", "updated_at", "schema", "self")


def check(name: str, body: Any) -> dict[str, Any]:
    """``body``, once it is known to be a valid ``name`` document.

    :raises Forbidden: when it sets a read-only attribute.
    :raises BadRequest: naming what else is wrong.
    """
    if not isinstance(body, dict):
        raise BadRequest(f"The request body must be a JSON object describing the {name}.")
    for key in READ_ONLY:
        if key in body:
            raise Forbidden(f"Attribute '{key}' is read-only.")
    validate(_VALIDATORS[name], body, name)
    return body
