"""Request bodies checked against JSON schemas, with Nova's error wording.

Nova validates every body with JSON-Schema and answers a 400 naming the field:
``Invalid input for field/attribute name. Value: ... is too long``. Schemas
here are plain dicts next to the handlers that use them; :func:`validate`
applies one, and the helpers build the types Nova's schemas share.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import jsonschema

from overcast.common.api.errors import BadRequest

NAME_PATTERN = r"^(?! )[\S ]*(?<! )$"
"""Printable, with no leading or trailing blank (Nova's ``name`` type)."""


FORMATS = jsonschema.FormatChecker(["ipv4", "ipv6", "uuid"])
"""The string formats Nova's schemas check (JSON-Schema leaves ``format`` unchecked otherwise)."""


@FORMATS.checks("base64", raises=(binascii.Error, ValueError))
def _is_base64(value: object) -> bool:
    if isinstance(value, str):
        base64.b64decode(value, validate=True)
    return True


def validate(schema: dict[str, Any], body: Any) -> None:
    """:raises BadRequest: when ``body`` does not match ``schema``."""
    validator = jsonschema.Draft4Validator(schema, format_checker=FORMATS)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is None:
        return
    if error.validator == "additionalProperties":
        raise BadRequest(f"Additional properties are not allowed ({_unexpected(error)})")
    if error.validator == "required":
        raise BadRequest(error.message)
    # Nova names the innermost field only: ``name``, not ``server/name``
    where = str(error.absolute_path[-1]) if error.absolute_path else "body"
    raise BadRequest(
        f"Invalid input for field/attribute {where}. Value: {error.instance}. {error.message}"
    )


def unexpected(key: str) -> BadRequest:
    """The error for a field this request may not carry, in JSON-Schema's words."""
    return BadRequest(f"Additional properties are not allowed ('{key}' was unexpected)")


def introduced(
    version: tuple[int, int], body: Mapping[str, Any], fields: Mapping[str, tuple[int, int]]
) -> None:
    """Refuse the fields of ``body`` that only exist from a later microversion than ``version``.

    :raises BadRequest: naming the first such field.
    """
    for key, first in fields.items():
        if key in body and version < first:
            raise unexpected(key)


def _unexpected(error: jsonschema.ValidationError) -> str:
    extra = error.message.split("(", 1)[-1].rstrip(")")
    return extra


def object_of(
    properties: dict[str, Any], *, required: tuple[str, ...] = (), extra: bool = False
) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": extra,
    }


def wrapped(key: str, inner: dict[str, Any]) -> dict[str, Any]:
    """``{"key": inner}``, the envelope of most Nova bodies."""
    return object_of({key: inner}, required=(key,))


def name(max_length: int = 255) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": NAME_PATTERN}


def integer(minimum: int = 0, maximum: int = 2**31 - 1) -> dict[str, Any]:
    """An integer, or a string of digits (Nova accepts both), in ``[minimum, maximum]``."""
    return {
        "type": ["integer", "string"],
        "pattern": r"^-?[0-9]+$",
        "minimum": minimum,
        "maximum": maximum,
    }


def to_int(field: str, value: Any, minimum: int = 0, maximum: int = 2**31 - 1) -> int:
    """``value`` (validated by :func:`integer`) as an int, with its bounds checked.

    :raises BadRequest: when it is out of bounds.
    """
    number = int(value)
    if number < minimum:
        raise BadRequest(
            f"Invalid input for field/attribute {field}. Value: {value}. "
            f"{value} is less than the minimum of {minimum}"
        )
    if number > maximum:
        raise BadRequest(
            f"Invalid input for field/attribute {field}. Value: {value}. "
            f"{value} is greater than the maximum of {maximum}"
        )
    return number


BOOLEAN: dict[str, Any] = {
    "type": ["boolean", "string"],
    "enum": [True, False, "True", "False", "true", "false", "1", "0", "yes", "no", "on", "off"],
}


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1", "yes", "on")


METADATA: dict[str, Any] = {
    "type": "object",
    "patternProperties": {
        r"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255},
    },
    "additionalProperties": False,
}
