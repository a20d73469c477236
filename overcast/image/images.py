"""Creating, changing and deleting images (their metadata; data moves in ``data``)."""

from __future__ import annotations

import uuid
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
from overcast.image.access import Caller, image_for_update
from overcast.image.models import Image, ImageMember, ImageProperty, ImageTag
from overcast.image.patch import Change
from overcast.image.service import ImageService

RESERVED_NAMESPACE = "os_glance"
DISALLOWED = ("direct_url", "self", "file", "schema", "stores")
READ_ONLY = (
    "created_at",
    "updated_at",
    "status",
    "checksum",
    "size",
    "virtual_size",
    "os_hash_algo",
    "os_hash_value",
    *DISALLOWED,
)
RESERVED = ("location", "locations", "deleted", "deleted_at")
BASE = (
    "name",
    "visibility",
    "protected",
    "os_hidden",
    "owner",
    "disk_format",
    "container_format",
    "min_ram",
    "min_disk",
)
QUEUED_ONLY = ("disk_format", "container_format")
DEFAULTS = {"protected": False, "os_hidden": False, "min_ram": 0, "min_disk": 0}


def check_name(name: str, *, creating: bool) -> None:
    """:raises Forbidden: when ``name`` is an attribute no client may set."""
    if name in DISALLOWED or (not creating and name == "id") or name in READ_ONLY:
        raise Forbidden(f"Attribute '{name}' is read-only.")
    if name in RESERVED or name.startswith(RESERVED_NAMESPACE):
        raise Forbidden(f"Attribute '{name}' is reserved.")


async def create_image(service: ImageService, context: RequestContext, body: Any) -> Image:
    """A new queued image from a create request's body.

    :raises BadRequest, Forbidden, Conflict, PayloadTooLarge: as Glance does.
    """
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object describing the image.")
    for name in body:
        check_name(name, creating=True)
    service.schemas.validate_image(body)
    caller = Caller.of(context)
    fields = {name: body[name] for name in BASE if name in body}
    tags = _unique(body.get("tags", []))
    properties = {k: v for k, v in body.items() if k not in (*BASE, "id", "tags")}
    _check_property_names(properties)
    fields.setdefault("owner", caller.project_id)
    fields.setdefault("visibility", "shared")
    policy_target = {"project_id": fields["owner"], "owner": fields["owner"]}
    if not context.can("add_image", policy_target):
        raise Forbidden("You are not authorized to complete add_image action.")
    _check_visibility_change(context, fields["visibility"], policy_target)
    _check_sizes(fields)
    _check_counts(service, len(properties), len(tags))
    now = service.clock.now()
    image_id = body.get("id") or str(uuid.uuid4())
    async with service.db.write() as session:
        if await session.get(Image, image_id) is not None:
            raise Conflict(f"Image with identifier {image_id} already exists!")
        await _check_image_count(service, session, fields["owner"])
        image = Image(
            id=image_id,
            status="queued",
            created_at=now,
            updated_at=now,
            deleted=False,
            properties=[ImageProperty(name=k, value=v) for k, v in properties.items()],
            tags=[ImageTag(value=tag) for tag in tags],
            **{**DEFAULTS, **fields},
        )
        session.add(image)
    return image


async def update_image(
    service: ImageService, context: RequestContext, image_id: str, changes: list[Change]
) -> Image:
    """Apply a PATCH's changes, all or nothing.

    :raises NotFound, Forbidden, Conflict, BadRequest, PayloadTooLarge: as Glance does.
    """
    caller = Caller.of(context)
    async with service.db.write() as session:
        image = await image_for_update(session, context, image_id, "modify_image")
        document = _document(image)
        for change in changes:
            _apply(service, context, caller, image, document, change)
        _check_sizes(document)
        properties = {k: v for k, v in document.items() if k not in (*BASE, "tags")}
        _check_counts(service, len(properties), len(document["tags"]))
        _store(image, document, properties)
        image.updated_at = service.clock.now()
    return image


def _document(image: Image) -> dict[str, Any]:
    document: dict[str, Any] = {name: getattr(image, name) for name in BASE}
    document["tags"] = [tag.value for tag in image.tags]
    document.update({prop.name: prop.value for prop in image.properties})
    return document


def _apply(
    service: ImageService,
    context: RequestContext,
    caller: Caller,
    image: Image,
    document: dict[str, Any],
    change: Change,
) -> None:
    root = change.root
    check_name(root, creating=False)
    if change.op != "remove":
        service.schemas.validate_image({root: change.value})
    is_base = root in BASE or root == "tags"
    if change.op == "remove":
        if is_base:
            raise Forbidden(f"Property {root} may not be removed.")
        if root not in document:
            raise Conflict(f"Property {root} does not exist.")
        del document[root]
        return
    if change.op == "replace" and not is_base and root not in document:
        raise Conflict(f"Property {root} does not exist.")
    if change.op == "add" and change.dialect == 4 and (is_base or root in document):
        raise Conflict(f"Property {root} already present.")
    if root == "owner" and not caller.is_admin:
        raise Forbidden("Owner can't be updated by non admin.")
    if root in QUEUED_ONLY and image.status != "queued":
        raise Forbidden(f"Attribute {root} can be only replaced for a queued image.")
    if root == "visibility":
        _check_visibility_change(context, change.value, {"project_id": image.owner})
    if root == "tags":
        document["tags"] = _unique(change.value)
        return
    if not is_base:
        _check_property_names({root: change.value})
    document[root] = change.value


def _store(image: Image, document: dict[str, Any], properties: dict[str, Any]) -> None:
    for name in BASE:
        setattr(image, name, document[name])
    current = {prop.name: prop for prop in image.properties}
    image.properties = [
        _property(current.get(name), name, value) for name, value in properties.items()
    ]
    kept = {tag.value: tag for tag in image.tags}
    image.tags = [kept.get(value) or ImageTag(value=value) for value in document["tags"]]


def _property(existing: ImageProperty | None, name: str, value: Any) -> ImageProperty:
    if existing is None:
        return ImageProperty(name=name, value=value)
    existing.value = value
    return existing


def _check_visibility_change(
    context: RequestContext, visibility: Any, policy_target: dict[str, Any]
) -> None:
    rule = {"public": "publicize_image", "community": "communitize_image"}.get(visibility)
    if rule and not context.can(rule, {**policy_target, "visibility": visibility}):
        raise Forbidden(f"You are not authorized to complete {rule} action.")


def _check_sizes(fields: dict[str, Any]) -> None:
    for name in ("min_ram", "min_disk"):
        if fields.get(name, 0) < 0:
            raise BadRequest(f"{name} cannot be a negative value.")


def _check_property_names(properties: dict[str, Any]) -> None:
    for name in properties:
        if len(name) > 255:
            raise BadRequest("Custom property should not be greater than 255 characters.")
        check_name(name, creating=True)


def _check_counts(service: ImageService, properties: int, tags: int) -> None:
    conf = service.conf
    if 0 <= conf.property_quota < properties:
        raise PayloadTooLarge(
            f"Attempted: {properties}, Maximum: {conf.property_quota}: "
            "the maximum number of image properties was exceeded."
        )
    if 0 <= conf.tag_quota < tags:
        raise PayloadTooLarge(
            f"Attempted: {tags}, Maximum: {conf.tag_quota}: "
            "the maximum number of image tags was exceeded."
        )


async def _check_image_count(
    service: ImageService, session: AsyncSession, owner: str | None
) -> None:
    limit = service.quota(owner).image_count_total
    if limit < 0:
        return
    count = await session.scalar(
        select(func.count())
        .select_from(Image)
        .where(Image.owner == owner, Image.deleted.is_(False))
    )
    if (count or 0) >= limit:
        raise PayloadTooLarge(f"The project's image_count_total limit of {limit} has been reached.")


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


async def delete_image(service: ImageService, context: RequestContext, image_id: str) -> None:
    """Mark the image deleted, then remove its data from its store.

    :raises NotFound, Forbidden: as Glance does (protected images are Forbidden).
    """
    async with service.db.write() as session:
        image = await image_for_update(session, context, image_id, "delete_image")
        if image.protected:
            raise Forbidden(f"Image {image_id} is protected and cannot be deleted.")
        store, location = image.store, image.location
        now = service.clock.now()
        image.status = "deleted"
        image.deleted = True
        image.deleted_at = image.updated_at = now
        image.properties = []
        image.tags = []
        image.store = image.location = image.upload_id = None
        for member in await session.scalars(
            select(ImageMember).where(ImageMember.image_id == image_id)
        ):
            await session.delete(member)
    backend = service.store(store)
    if backend is not None and location:
        await backend.delete(location)


async def set_active(
    service: ImageService, context: RequestContext, image_id: str, *, active: bool
) -> None:
    """Deactivate (``active=False``) or reactivate an image.

    :raises NotFound, Forbidden, BadRequest: as Glance does.
    """
    rule = "reactivate" if active else "deactivate"
    async with service.db.write() as session:
        image = await image_for_update(session, context, image_id, rule)
        wanted, other = ("active", "deactivated") if active else ("deactivated", "active")
        if image.status == wanted:
            return
        if image.status != other:
            raise BadRequest(f"Not allowed to {rule} image in status '{image.status}'")
        image.status = wanted
        image.updated_at = service.clock.now()


async def add_tag(service: ImageService, context: RequestContext, image_id: str, tag: str) -> None:
    if len(tag) > 255:
        raise BadRequest("Image tag must be at most 255 characters.")
    async with service.db.write() as session:
        image = await image_for_update(session, context, image_id, "modify_image")
        if any(existing.value == tag for existing in image.tags):
            return
        _check_counts(service, 0, len(image.tags) + 1)
        image.tags.append(ImageTag(value=tag))
        image.updated_at = service.clock.now()


async def delete_tag(
    service: ImageService, context: RequestContext, image_id: str, tag: str
) -> None:
    async with service.db.write() as session:
        image = await image_for_update(session, context, image_id, "modify_image")
        kept = [existing for existing in image.tags if existing.value != tag]
        if len(kept) == len(image.tags):
            raise NotFound(f"Tag {tag} not found for image {image_id}.")
        image.tags = kept
        image.updated_at = service.clock.now()
