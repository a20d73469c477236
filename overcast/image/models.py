"""The image schema: images with their properties, tags and members; tasks; metadata definitions.

Deleted images keep their row (``status = 'deleted'``, ``deleted = true``) as in
Glance, so that an image id is never reused; their properties, tags and members go.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from overcast.common.db import NAMING_CONVENTION, JSONType, UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType}


class Image(Base):
    __tablename__ = "image"
    __table_args__ = (
        Index("ix_image_owner_deleted", "owner", "deleted"),
        Index("ix_image_visibility_deleted", "visibility", "deleted"),
        Index("ix_image_created_at_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(30))
    size: Mapped[int | None] = mapped_column(BigInteger)
    virtual_size: Mapped[int | None] = mapped_column(BigInteger)
    disk_format: Mapped[str | None] = mapped_column(String(20))
    container_format: Mapped[str | None] = mapped_column(String(20))
    checksum: Mapped[str | None] = mapped_column(String(32), index=True)
    os_hash_algo: Mapped[str | None] = mapped_column(String(64))
    os_hash_value: Mapped[str | None] = mapped_column(String(128), index=True)
    owner: Mapped[str | None] = mapped_column(String(255))
    visibility: Mapped[str] = mapped_column(String(20))
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    os_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    min_disk: Mapped[int] = mapped_column(Integer, default=0)
    min_ram: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None]
    store: Mapped[str | None] = mapped_column(String(255))
    """Id of the store holding the data (``file`` ...)."""
    location: Mapped[str | None] = mapped_column(Text)
    """Where that store keeps it, in its own words (a ``file://`` URL ...)."""
    upload_id: Mapped[str | None] = mapped_column(String(36))
    """The upload in progress: whoever sets it (queued -> saving) owns the data slot."""

    properties: Mapped[list[ImageProperty]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ImageProperty.name"
    )
    tags: Mapped[list[ImageTag]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ImageTag.value"
    )


class ImageProperty(Base):
    __tablename__ = "image_property"

    image_id: Mapped[str] = mapped_column(
        ForeignKey("image.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class ImageTag(Base):
    __tablename__ = "image_tag"

    image_id: Mapped[str] = mapped_column(
        ForeignKey("image.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class ImageMember(Base):
    __tablename__ = "image_member"

    image_id: Mapped[str] = mapped_column(
        ForeignKey("image.id", ondelete="CASCADE"), primary_key=True
    )
    member: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Task(Base):
    __tablename__ = "task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(30), index=True)
    owner: Mapped[str | None] = mapped_column(String(255), index=True)
    user_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    image_id: Mapped[str | None] = mapped_column(String(36), index=True)
    input: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    message: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Namespace(Base):
    """A metadata definition namespace (Glance's "metadefs")."""

    __tablename__ = "metadef_namespace"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(32))
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ResourceType(Base):
    __tablename__ = "metadef_resource_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ResourceTypeAssociation(Base):
    __tablename__ = "metadef_namespace_resource_type"

    namespace_id: Mapped[int] = mapped_column(
        ForeignKey("metadef_namespace.id", ondelete="CASCADE"), primary_key=True
    )
    resource_type_id: Mapped[int] = mapped_column(
        ForeignKey("metadef_resource_type.id", ondelete="CASCADE"), primary_key=True
    )
    prefix: Mapped[str | None] = mapped_column(String(80))
    properties_target: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class _NamespaceMember:
    """Columns of every named thing inside a namespace (objects, properties, tags)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MetadefObject(_NamespaceMember, Base):
    __tablename__ = "metadef_object"
    __table_args__ = (UniqueConstraint("namespace_id", "name"),)

    namespace_id: Mapped[int] = mapped_column(
        ForeignKey("metadef_namespace.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str | None] = mapped_column(Text)
    required: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """``{"names": [...]}``: the required property names."""
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MetadefProperty(_NamespaceMember, Base):
    __tablename__ = "metadef_property"
    __table_args__ = (UniqueConstraint("namespace_id", "name"),)

    namespace_id: Mapped[int] = mapped_column(
        ForeignKey("metadef_namespace.id", ondelete="CASCADE"), index=True
    )
    schema: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The property's JSON-schema definition (``title``, ``type``, ``enum`` ...)."""


class MetadefTag(_NamespaceMember, Base):
    __tablename__ = "metadef_tag"
    __table_args__ = (UniqueConstraint("namespace_id", "name"),)

    namespace_id: Mapped[int] = mapped_column(
        ForeignKey("metadef_namespace.id", ondelete="CASCADE"), index=True
    )
