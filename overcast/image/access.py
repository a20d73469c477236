"""Who may see which image, and the policy target describing an image.

An image is visible to its owner, to admins, to everyone when it is public or
community, and to the projects it is shared with (whatever their membership
status) when it is shared. Everyone else is told it does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import Forbidden, NotFound
from overcast.common.auth.context import RequestContext
from overcast.image.models import Image, ImageMember

if TYPE_CHECKING:
    from overcast.image.service import ImageService

T = TypeVar("T")


@dataclass(frozen=True)
class Caller:
    project_id: str | None
    user_id: str
    is_admin: bool

    @classmethod
    def of(cls, context: RequestContext) -> Caller:
        """:raises Unauthorized: when the request carries no valid token."""
        auth = context.require_auth()
        roles = {role.lower() for role in auth.roles}
        return cls(auth.project_id, auth.user_id, "admin" in roles)


def not_found(image_id: str) -> NotFound:
    return NotFound(f"No image found with ID {image_id}")


# Built once, as every image read (and every server boot) runs them: SQLAlchemy then
# reuses their compiled SQL without working out a cache key anew.
_IMAGE = select(Image).where(Image.id == bindparam("image_id"), Image.deleted.is_(False))
_MEMBER = select(ImageMember).where(
    ImageMember.image_id == bindparam("image_id"), ImageMember.member == bindparam("project")
)


async def find_image(session: AsyncSession, image_id: str) -> Image | None:
    """The image with this id, unless it is deleted."""
    found: Image | None = await session.scalar(_IMAGE, {"image_id": image_id})
    return found


async def membership(
    session: AsyncSession, image_id: str, project: str | None
) -> ImageMember | None:
    if project is None:
        return None
    found: ImageMember | None = await session.scalar(
        _MEMBER, {"image_id": image_id, "project": project}
    )
    return found


def can_see(caller: Caller, image: Image, member: ImageMember | None) -> bool:
    if caller.is_admin or image.owner == caller.project_id:
        return True
    if image.visibility in ("public", "community"):
        return True
    return image.visibility == "shared" and member is not None


def target(image: Image, member: ImageMember | None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "project_id": image.owner,
        "owner": image.owner,
        "visibility": image.visibility,
    }
    if member is not None:
        found["member_id"] = member.member
    return found


async def visible_image(
    session: AsyncSession, context: RequestContext, image_id: str
) -> tuple[Image, ImageMember | None]:
    """The image and the caller's membership of it, if the caller may see it.

    :raises NotFound: when there is no such image, or the caller may not see it.
    """
    caller = Caller.of(context)
    image = await find_image(session, image_id)
    if image is None:
        raise not_found(image_id)
    member = await membership(session, image_id, caller.project_id)
    _check_visible(caller, context, image, member)
    return image, member


async def readable_image(
    service: ImageService, context: RequestContext, image_id: str
) -> tuple[Image, ImageMember | None]:
    """:func:`visible_image` for readers, through the service's cache of images and members.

    What it returns may be shared by other requests: read it, never change it.

    :raises NotFound: when there is no such image, or the caller may not see it.
    """
    caller = Caller.of(context)
    image = await service.cache.get_or_load(
        ("image", image_id), lambda: _reading(service, find_image, image_id)
    )
    if image is None:
        raise not_found(image_id)
    member = None
    if caller.project_id is not None:
        member = await service.cache.get_or_load(
            ("member", image_id, caller.project_id),
            lambda: _reading(service, membership, image_id, caller.project_id),
        )
    _check_visible(caller, context, image, member)
    return image, member


async def _reading(
    service: ImageService, query: Callable[..., Awaitable[T]], *args: str | None
) -> T:
    async with service.db.read() as session:
        return await query(session, *args)


def _check_visible(
    caller: Caller, context: RequestContext, image: Image, member: ImageMember | None
) -> None:
    if not can_see(caller, image, member) or not context.can("get_image", target(image, member)):
        raise not_found(image.id)


def enforce(context: RequestContext, rule: str, image: Image, member: ImageMember | None) -> None:
    """:raises Forbidden: when policy denies ``rule`` on ``image``."""
    if not context.can(rule, target(image, member)):
        raise Forbidden(f"You are not authorized to complete {rule} action.")


async def image_for_update(
    session: AsyncSession, context: RequestContext, image_id: str, rule: str
) -> Image:
    """A visible image the caller may change by ``rule``.

    :raises NotFound: when the caller may not see it.
    :raises Forbidden: when the caller may see it but not change it.
    """
    image, member = await visible_image(session, context, image_id)
    enforce(context, rule, image, member)
    return image
