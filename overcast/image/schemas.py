"""The JSON schemas served at ``/v2/schemas/*``; request bodies are validated against them.

An image is "permissive": besides its base attributes it may carry any string
property. The disk and container format lists come from the configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import jsonschema

from overcast.common.api.errors import BadRequest
from overcast.common.config import ImageSettings

UUID_PATTERN = (
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
)
IMAGE_STATUSES = [
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "uploading",
    "importing",
    "pending_delete",
    "deactivated",
]
VISIBILITIES = ["community", "public", "private", "shared"]
MEMBER_STATUSES = ["pending", "accepted", "rejected"]
TASK_STATUSES = ["pending", "processing", "success", "failure"]


def _text(description: str, *, nullable: bool = False, **extra: Any) -> dict[str, Any]:
    kind: Any = ["null", "string"] if nullable else "string"
    return {"type": kind, "description": description, **extra}


def _readonly(description: str, kind: Any = "string", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "readOnly": True, "description": description, **extra}


def image_properties(conf: ImageSettings) -> dict[str, Any]:
    """The base attributes of an image, then the well-known optional properties."""
    return {
        "id": _text("An identifier for the image", pattern=UUID_PATTERN),
        "name": _text("Descriptive name for the image", nullable=True, maxLength=255),
        "status": _readonly("Status of the image", enum=IMAGE_STATUSES),
        "visibility": _text("Scope of image accessibility", enum=VISIBILITIES),
        "protected": {"type": "boolean", "description": "If true, the image cannot be deleted."},
        "os_hidden": {"type": "boolean", "description": "If true, lists leave the image out."},
        "checksum": _readonly("md5 of the image data", ["null", "string"], maxLength=32),
        "os_hash_algo": _readonly("Algorithm of os_hash_value", ["null", "string"], maxLength=64),
        "os_hash_value": _readonly(
            "Hex digest of the image data", ["null", "string"], maxLength=128
        ),
        "owner": _text("Owner of the image", nullable=True, maxLength=255),
        "size": _readonly("Size of the image data in bytes", ["null", "integer"]),
        "virtual_size": _readonly("Virtual size of the disk in bytes", ["null", "integer"]),
        "container_format": {
            "type": ["null", "string"],
            "description": "Format of the container",
            "enum": [None, *conf.container_formats],
        },
        "disk_format": {
            "type": ["null", "string"],
            "description": "Format of the disk",
            "enum": [None, *conf.disk_formats],
        },
        "created_at": _readonly("Date and time of image registration"),
        "updated_at": _readonly("Date and time of the last image modification"),
        "tags": {
            "type": "array",
            "description": "Strings related to the image",
            "items": {"type": "string", "maxLength": 255},
        },
        "direct_url": _readonly("URL of the image data in its store"),
        "min_ram": {"type": "integer", "description": "RAM (MiB) needed to boot the image"},
        "min_disk": {"type": "integer", "description": "Disk (GiB) needed to boot the image"},
        "self": _readonly("URL of the image"),
        "file": _readonly("URL of the image data"),
        "stores": _readonly("Stores holding the image data, comma-separated"),
        "schema": _readonly("URL of the image schema"),
        "locations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "url": {"type": "string", "maxLength": 255},
                    "metadata": {"type": "object"},
                },
                "required": ["url", "metadata"],
            },
            "description": "Where the image data is kept",
        },
        "kernel_id": _text(
            "Image to use as the kernel of an AMI-style image", nullable=True, pattern=UUID_PATTERN
        ),
        "ramdisk_id": _text(
            "Image to use as the ramdisk of an AMI-style image", nullable=True, pattern=UUID_PATTERN
        ),
        "instance_uuid": _text("Instance this image was made from (informational)"),
        "architecture": _text("CPU architecture the image needs"),
        "os_distro": _text("Common name of the operating system distribution"),
        "os_version": _text("Operating system version, as its distributor names it"),
        "description": _text("A human-readable description of the image"),
    }


def _links(*rels: tuple[str, str]) -> list[dict[str, str]]:
    return [{"rel": rel, "href": href} for rel, href in rels]


def collection(
    name: str, item: Mapping[str, Any], *, items_key: str | None = None
) -> dict[str, Any]:
    """A list document of ``item``s: ``{"<name>": [...], "first", "next", "schema"}``."""
    return {
        "name": name,
        "properties": {
            items_key or name: {"type": "array", "items": item},
            "first": {"type": "string"},
            "next": {"type": "string"},
            "schema": {"type": "string"},
        },
        "links": _links(("first", "{first}"), ("next", "{next}"), ("describedby", "{schema}")),
    }


MEMBER = {
    "name": "member",
    "properties": {
        "created_at": _readonly("Date and time of the membership's creation"),
        "updated_at": _readonly("Date and time of the last change of the membership"),
        "image_id": _readonly("The shared image", pattern=UUID_PATTERN),
        "member_id": {"type": "string", "description": "The project the image is shared with"},
        "schema": _readonly("URL of the member schema"),
        "status": {
            "type": "string",
            "description": "Whether the member accepted the image",
            "enum": MEMBER_STATUSES,
        },
    },
}

TASK = {
    "name": "task",
    "properties": {
        "id": _text("An identifier for the task", pattern=UUID_PATTERN),
        "type": _text("The type of task", enum=["import"]),
        "status": _text("Status of the task", enum=TASK_STATUSES),
        "input": {"type": "object", "description": "What the task works on"},
        "result": {"type": ["null", "object"], "description": "What the task produced"},
        "owner": _text("Owner of the task"),
        "message": _text("Why the task failed, if it did"),
        "image_id": _readonly("The image the task works on"),
        "request_id": _readonly("The request that started the task"),
        "user_id": _readonly("The user that started the task"),
        "expires_at": _readonly("When the task's record is removed", ["null", "string"]),
        "created_at": _readonly("Date and time of the task's creation"),
        "updated_at": _readonly("Date and time of the task's last change"),
        "self": _readonly("URL of the task"),
        "schema": _readonly("URL of the task schema"),
    },
    "required": ["type", "input"],
}


class Schemas:
    """Every schema document of the image API, built once from the configuration."""

    def __init__(self, conf: ImageSettings) -> None:
        self.conf = conf

    @cached_property
    def image(self) -> dict[str, Any]:
        return {
            "name": "image",
            "properties": image_properties(self.conf),
            "additionalProperties": {"type": "string"},
            "links": _links(
                ("self", "{self}"), ("enclosure", "{file}"), ("describedby", "{schema}")
            ),
        }

    @cached_property
    def documents(self) -> dict[str, dict[str, Any]]:
        from overcast.image.metadefs import schemas as metadefs

        return {
            "image": self.image,
            "images": collection("images", self.image),
            "member": MEMBER,
            "members": collection("members", MEMBER),
            "task": TASK,
            "tasks": collection("tasks", TASK),
            **{f"metadefs/{name}": doc for name, doc in metadefs.DOCUMENTS.items()},
        }

    @cached_property
    def _image_validator(self) -> jsonschema.protocols.Validator:
        return jsonschema.Draft4Validator(self.image)

    def validate_image(self, document: Mapping[str, Any]) -> None:
        """:raises BadRequest: when ``document`` breaks the image schema."""
        validate(self._image_validator, document, "image")


def validate(validator: jsonschema.protocols.Validator, document: Any, name: str) -> None:
    """:raises BadRequest: naming the first problem ``validator`` finds in ``document``."""
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        at = f" (at '{where}')" if where else ""
        raise BadRequest(f"Provided object does not match schema '{name}': {error.message}{at}")
