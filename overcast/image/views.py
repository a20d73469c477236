"""How images, members and tasks look in API responses."""

from __future__ import annotations

from typing import Any

from overcast.common.clock import isotime
from overcast.image.models import Image, ImageMember, Task

DATA_STATUSES = ("active", "deactivated")


def timestamp(moment: Any) -> str | None:
    return None if moment is None else isotime(moment, subsecond=False)


def image_href(image_id: str, sub: str = "") -> str:
    return f"/v2/images/{image_id}/{sub}" if sub else f"/v2/images/{image_id}"


def image_view(image: Image) -> dict[str, Any]:
    """The image as Glance shows it: extra properties at top level, then the base attributes."""
    view: dict[str, Any] = {prop.name: prop.value for prop in image.properties}
    view.update(
        id=image.id,
        name=image.name,
        status=image.status,
        visibility=image.visibility,
        protected=image.protected,
        os_hidden=image.os_hidden,
        owner=image.owner,
        disk_format=image.disk_format,
        container_format=image.container_format,
        size=image.size,
        virtual_size=image.virtual_size,
        checksum=image.checksum,
        os_hash_algo=image.os_hash_algo,
        os_hash_value=image.os_hash_value,
        min_ram=image.min_ram,
        min_disk=image.min_disk,
        created_at=timestamp(image.created_at),
        updated_at=timestamp(image.updated_at),
        tags=[tag.value for tag in image.tags],
        self=image_href(image.id),
        file=image_href(image.id, "file"),
        schema="/v2/schemas/image",
    )
    if image.store and image.status in DATA_STATUSES:
        view["stores"] = image.store
    return view


def member_view(member: ImageMember) -> dict[str, Any]:
    return {
        "image_id": member.image_id,
        "member_id": member.member,
        "status": member.status,
        "created_at": timestamp(member.created_at),
        "updated_at": timestamp(member.updated_at),
        "schema": "/v2/schemas/member",
    }


def task_view(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "type": task.type,
        "status": task.status,
        "input": task.input,
        "result": task.result,
        "owner": task.owner,
        "message": task.message,
        "image_id": task.image_id,
        "request_id": task.request_id,
        "user_id": task.user_id,
        "expires_at": timestamp(task.expires_at),
        "created_at": timestamp(task.created_at),
        "updated_at": timestamp(task.updated_at),
        "self": f"/v2/tasks/{task.id}",
        "schema": "/v2/schemas/task",
    }
