"""The compute schema: instances and what they are built from, hosts and their resources.

Deleted instances keep their row (``deleted = true``) so that usage reports and
``changes-since`` listings still see them, as in Nova. Resource accounting
follows Placement: a resource provider per compute node with an inventory per
resource class, and allocations per consumer (instance); ``Inventory.used`` is
the sum of that provider's allocations, kept in the same transaction as them,
so a claim is one conditional ``UPDATE`` per resource class.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
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


class Flavor(Base):
    __tablename__ = "flavor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flavorid: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    memory_mb: Mapped[int]
    vcpus: Mapped[int]
    root_gb: Mapped[int]
    ephemeral_gb: Mapped[int] = mapped_column(Integer, default=0)
    swap: Mapped[int] = mapped_column(Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(Float, default=1.0)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]

    extra_specs: Mapped[list[FlavorExtraSpec]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="FlavorExtraSpec.key"
    )

    @property
    def extra_specs_dict(self) -> dict[str, str]:
        return {spec.key: spec.value for spec in self.extra_specs}


class FlavorExtraSpec(Base):
    __tablename__ = "flavor_extra_spec"

    flavor_id: Mapped[int] = mapped_column(
        ForeignKey("flavor.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class FlavorProject(Base):
    """A project that may use a private flavor."""

    __tablename__ = "flavor_project"

    flavor_id: Mapped[int] = mapped_column(
        ForeignKey("flavor.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)


class KeyPair(Base):
    __tablename__ = "keypair"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(255))
    public_key: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(10), default="ssh")
    created_at: Mapped[datetime]


class Instance(Base):
    __tablename__ = "instance"
    __table_args__ = (
        # covering: a project's usage (count, cores, RAM) is summed from the index alone
        Index("ix_instance_project_usage", "project_id", "deleted", "vcpus", "memory_mb"),
        Index("ix_instance_host_deleted", "host", "deleted"),
        Index("ix_instance_created_at_uuid", "created_at", "uuid"),
        Index("ix_instance_updated_at", "updated_at"),
    )

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255), index=True)
    display_description: Mapped[str | None] = mapped_column(Text)
    hostname: Mapped[str] = mapped_column(String(255))
    reservation_id: Mapped[str] = mapped_column(String(255), index=True)
    launch_index: Mapped[int] = mapped_column(Integer, default=0)
    host: Mapped[str | None] = mapped_column(String(255))
    node: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    flavor: Mapped[dict[str, Any]]
    """The flavor as it was when the instance was built (or last resized)."""
    vcpus: Mapped[int]
    memory_mb: Mapped[int]
    root_gb: Mapped[int]
    """The flavor's sizes again, as columns, so quota usage is a SQL sum."""
    old_flavor: Mapped[dict[str, Any] | None]
    image_ref: Mapped[str] = mapped_column(String(255), default="")
    image: Mapped[dict[str, Any]]
    """What the instance needs to know of its image (name, min_disk, properties ...)."""
    key_name: Mapped[str | None] = mapped_column(String(255))
    key_data: Mapped[str | None] = mapped_column(Text)
    user_data: Mapped[str | None] = mapped_column(Text)
    config_drive: Mapped[str] = mapped_column(String(255), default="")
    access_ip_v4: Mapped[str | None] = mapped_column(String(39))
    access_ip_v6: Mapped[str | None] = mapped_column(String(39))
    vm_state: Mapped[str] = mapped_column(String(255))
    task_state: Mapped[str | None] = mapped_column(String(255))
    power_state: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_by: Mapped[str | None] = mapped_column(String(10))
    locked_reason: Mapped[str | None] = mapped_column(Text)
    root_device_name: Mapped[str | None] = mapped_column(String(255))
    request_spec: Mapped[dict[str, Any]]
    """What the scheduler was asked, kept for reschedules and moves."""
    system_metadata: Mapped[dict[str, Any]]
    """Internal facts: the shelved image, the image a rescue booted ..."""
    block_devices: Mapped[list[Any]] = mapped_column(JSONType)
    launched_at: Mapped[datetime | None]
    terminated_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None]

    metadata_items: Mapped[list[InstanceMetadata]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="InstanceMetadata.key"
    )
    tags: Mapped[list[InstanceTag]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="InstanceTag.tag"
    )

    @property
    def metadata_dict(self) -> dict[str, str]:
        return {item.key: item.value for item in self.metadata_items}


class InstanceMetadata(Base):
    __tablename__ = "instance_metadata"

    instance_uuid: Mapped[str] = mapped_column(
        ForeignKey("instance.uuid", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class InstanceTag(Base):
    __tablename__ = "instance_tag"

    instance_uuid: Mapped[str] = mapped_column(
        ForeignKey("instance.uuid", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)


class InstanceFault(Base):
    __tablename__ = "instance_fault"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_uuid: Mapped[str] = mapped_column(
        ForeignKey("instance.uuid", ondelete="CASCADE"), index=True
    )
    code: Mapped[int]
    message: Mapped[str] = mapped_column(String(255))
    details: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]


class InstanceAction(Base):
    __tablename__ = "instance_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(String(255))
    start_time: Mapped[datetime]
    finish_time: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    events: Mapped[list[InstanceActionEvent]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="InstanceActionEvent.id"
    )


class InstanceActionEvent(Base):
    __tablename__ = "instance_action_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("instance_action.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(255))
    result: Mapped[str | None] = mapped_column(String(255))
    traceback: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[str | None] = mapped_column(Text)
    start_time: Mapped[datetime]
    finish_time: Mapped[datetime | None]


class ServerGroup(Base):
    __tablename__ = "server_group"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    policy: Mapped[str] = mapped_column(String(255))
    rules: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]

    members: Mapped[list[ServerGroupMember]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ServerGroupMember.instance_uuid"
    )


class ServerGroupMember(Base):
    __tablename__ = "server_group_member"

    group_uuid: Mapped[str] = mapped_column(
        ForeignKey("server_group.uuid", ondelete="CASCADE"), primary_key=True
    )
    instance_uuid: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


class Quota(Base):
    """A project's (or a project user's) limit on one resource, replacing the default."""

    __tablename__ = "compute_quota"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True, default="")
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int]


class QuotaClass(Base):
    __tablename__ = "compute_quota_class"

    class_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int]


class Service(Base):
    """A running part of the cloud: ``nova-compute`` per host, ``nova-conductor`` ..."""

    __tablename__ = "compute_service"
    __table_args__ = (UniqueConstraint("host", "binary"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    binary: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    forced_down: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_up: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]


class ComputeNode(Base):
    """A hypervisor, and the resource provider of its inventory."""

    __tablename__ = "compute_node"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    host: Mapped[str] = mapped_column(String(255), index=True)
    hypervisor_hostname: Mapped[str] = mapped_column(String(255), unique=True)
    hypervisor_type: Mapped[str] = mapped_column(String(255))
    hypervisor_version: Mapped[int]
    host_ip: Mapped[str] = mapped_column(String(39))
    cpu_info: Mapped[dict[str, Any]]
    generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    inventories: Mapped[list[Inventory]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="Inventory.resource_class"
    )


class Inventory(Base):
    __tablename__ = "placement_inventory"

    provider_id: Mapped[int] = mapped_column(
        ForeignKey("compute_node.id", ondelete="CASCADE"), primary_key=True
    )
    resource_class: Mapped[str] = mapped_column(String(255), primary_key=True)
    total: Mapped[int]
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    max_unit: Mapped[int]
    allocation_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    used: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def capacity(self) -> int:
        return int((self.total - self.reserved) * self.allocation_ratio)


class Allocation(Base):
    __tablename__ = "placement_allocation"

    consumer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("compute_node.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    resource_class: Mapped[str] = mapped_column(String(255), primary_key=True)
    used: Mapped[int]


class Aggregate(Base):
    __tablename__ = "aggregate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]

    hosts: Mapped[list[AggregateHost]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="AggregateHost.host"
    )
    metadata_items: Mapped[list[AggregateMetadata]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="AggregateMetadata.key"
    )


class AggregateHost(Base):
    __tablename__ = "aggregate_host"

    aggregate_id: Mapped[int] = mapped_column(
        ForeignKey("aggregate.id", ondelete="CASCADE"), primary_key=True
    )
    host: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class AggregateMetadata(Base):
    __tablename__ = "aggregate_metadata"

    aggregate_id: Mapped[int] = mapped_column(
        ForeignKey("aggregate.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class Migration(Base):
    __tablename__ = "compute_migration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    migration_type: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(255))
    source_compute: Mapped[str | None] = mapped_column(String(255))
    dest_compute: Mapped[str | None] = mapped_column(String(255))
    source_node: Mapped[str | None] = mapped_column(String(255))
    dest_node: Mapped[str | None] = mapped_column(String(255))
    old_flavor_id: Mapped[str | None] = mapped_column(String(255))
    new_flavor_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
