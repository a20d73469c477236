"""Sharing: the projects a ``shared`` image is offered to, and what each said about it.

The owner adds and removes members; each member accepts or rejects (and may
change its mind). A member sees the image whatever its status, but lists show
it by default only once accepted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
)
from overcast.common.auth.context import RequestContext
from overcast.image.access import Caller, enforce, visible_image
from overcast.image.models import Image, ImageMember
from overcast.image.schemas import MEMBER_STATUSES
from overcast.image.service import ImageService


def _shared_only(image: Image) -> None:
    if image.visibility != "shared":
        raise Forbidden("Only shared images have members.")


def _member_id(body: Any) -> str:
    member = body.get("member") if isinstance(body, dict) else None
    if not isinstance(member, str) or not member.strip() or len(member) > 255:
        raise BadRequest('The body must be {"member": "<project id>"} with a project id.')
    return member.strip()


async def add_member(
    service: ImageService, context: RequestContext, image_id: str, body: Any
) -> ImageMember:
    """:raises NotFound, Forbidden, BadRequest, Conflict, PayloadTooLarge: as Glance does."""
    member_id = _member_id(body)
    async with service.db.write() as session:
        image, member = await visible_image(session, context, image_id)
        enforce(context, "add_member", image, member)
        _shared_only(image)
        if await session.get(ImageMember, (image_id, member_id)) is not None:
            raise Conflict(f"Member {member_id} already associated with image {image_id}.")
        limit = service.conf.member_quota
        if limit >= 0 and await _count(session, image_id) >= limit:
            raise PayloadTooLarge(f"Maximum number of members ({limit}) reached for this image.")
        now = service.clock.now()
        created = ImageMember(
            image_id=image_id, member=member_id, status="pending", created_at=now, updated_at=now
        )
        session.add(created)
    return created


async def _count(session: AsyncSession, image_id: str) -> int:
    count = await session.scalar(
        select(func.count()).select_from(ImageMember).where(ImageMember.image_id == image_id)
    )
    return count or 0


async def list_members(
    service: ImageService, context: RequestContext, image_id: str
) -> list[ImageMember]:
    """Every member for the owner and admins; a member sees only its own membership."""
    caller = Caller.of(context)
    async with service.db.read() as session:
        image, member = await visible_image(session, context, image_id)
        enforce(context, "get_members", image, member)
        _shared_only(image)
        if not (caller.is_admin or image.owner == caller.project_id):
            return [member] if member is not None else []
        rows = await session.scalars(
            select(ImageMember)
            .where(ImageMember.image_id == image_id)
            .order_by(ImageMember.created_at, ImageMember.member)
        )
        return list(rows)


async def get_member(
    service: ImageService, context: RequestContext, image_id: str, member_id: str
) -> ImageMember:
    caller = Caller.of(context)
    async with service.db.read() as session:
        image, member = await visible_image(session, context, image_id)
        enforce(context, "get_member", image, member)
        found = await session.get(ImageMember, (image_id, member_id))
        privileged = caller.is_admin or image.owner == caller.project_id
        if found is None or not (privileged or member_id == caller.project_id):
            raise NotFound(f"Member {member_id} not found for image {image_id}.")
        return found


async def update_member(
    service: ImageService, context: RequestContext, image_id: str, member_id: str, body: Any
) -> ImageMember:
    """The member accepts or rejects; nobody else may.

    :raises NotFound, Forbidden, BadRequest: as Glance does.
    """
    status = body.get("status") if isinstance(body, dict) else None
    if status not in MEMBER_STATUSES:
        raise BadRequest(
            f"Invalid status: {status!r}; it must be one of {', '.join(MEMBER_STATUSES)}."
        )
    async with service.db.write() as session:
        image, _ = await visible_image(session, context, image_id)
        found = await session.get(ImageMember, (image_id, member_id))
        if found is None:
            raise NotFound(f"Member {member_id} not found for image {image_id}.")
        enforce(context, "modify_member", image, found)
        found.status = status
        found.updated_at = service.clock.now()
    return found


async def delete_member(
    service: ImageService, context: RequestContext, image_id: str, member_id: str
) -> None:
    async with service.db.write() as session:
        image, member = await visible_image(session, context, image_id)
        enforce(context, "delete_member", image, member)
        found = await session.get(ImageMember, (image_id, member_id))
        if found is None:
            raise NotFound(f"Member {member_id} not found for image {image_id}.")
        await session.delete(found)
