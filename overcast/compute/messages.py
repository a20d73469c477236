"""What the compute API, the conductor and the compute agents say to each other on the bus.

Topics: ``conductor`` (any conductor takes a message) and ``compute`` with the
agent's host as server (``compute.<host>``). The API records intent in the
database and casts; agents never touch the database, they report to the
conductor, which does.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from overcast.common.bus import Message

CONDUCTOR = "conductor"
COMPUTE = "compute"
BUILD_EVENT = "compute__do_build_and_run_instance"
"""The instance-action event of a spawn on a compute host, as Nova names it."""


# --- to the conductor ---------------------------------------------------------------------


class BuildInstances(Message):
    """Schedule and build these new instances (one request: one reservation)."""

    KIND: ClassVar[str] = "conductor.build_instances"
    instance_uuids: list[str]
    token: str = ""
    """The caller's token when unshelving: the shelved image is deleted with it afterwards."""


class ResizeInstance(Message):
    """Find a host for an instance's new flavor (its migration is recorded) and move it there."""

    KIND: ClassVar[str] = "conductor.resize_instance"
    uuid: str
    migration_uuid: str


class NodeResources(Message):
    KIND: ClassVar[str] = "conductor.node_resources"
    hypervisor_hostname: str
    hypervisor_type: str
    hypervisor_version: int
    host_ip: str
    vcpus: int
    memory_mb: int
    local_gb: int
    cpu_info: dict[str, Any] = {}


class RegisterNode(Message):
    """An agent starting: its service and node, created or updated."""

    KIND: ClassVar[str] = "conductor.register_node"
    host: str
    node: NodeResources


class Registered(Message):
    KIND: ClassVar[str] = "conductor.registered"
    service_uuid: str
    node_uuid: str


class Heartbeat(Message):
    KIND: ClassVar[str] = "conductor.heartbeat"
    host: str


class InstanceUpdate(Message):
    """An agent finished (or failed) an operation on an instance."""

    KIND: ClassVar[str] = "conductor.instance_update"
    uuid: str
    host: str
    event: str
    """The instance-action event this ends (``compute__do_build_and_run_instance`` ...)."""
    vm_state: str | None = None
    power_state: int | None = None
    task_state: str | None = None
    expected_task_state: str | None = None
    launched: bool = False
    offloaded: bool = False
    """The guest is gone from the host (shelve): its allocations go back, the host is cleared."""
    migration_uuid: str | None = None
    migration_status: str | None = None
    """A resize step ended: ``finished`` (now VERIFY_RESIZE) or ``reverted``."""
    error: str | None = None
    """What went wrong; the task state is reset and the event recorded as an error."""


class BuildFailed(Message):
    """A spawn failed on a host: reschedule the instance, or put it in ERROR."""

    KIND: ClassVar[str] = "conductor.build_failed"
    uuid: str
    host: str
    reason: str


class InstanceDestroyed(Message):
    KIND: ClassVar[str] = "conductor.instance_destroyed"
    uuid: str
    host: str


# --- to a compute agent ---------------------------------------------------------------------


class InstanceSpec(Message):
    """What a driver needs to create a guest."""

    KIND: ClassVar[str] = "compute.instance_spec"
    uuid: str
    name: str
    flavor: dict[str, Any]
    image: dict[str, Any]
    key_data: str | None = None
    user_data: str | None = None
    metadata: dict[str, str] = {}


class SpawnInstance(Message):
    KIND: ClassVar[str] = "compute.spawn"
    instance: InstanceSpec
    attempt: int = Field(default=1, ge=1)
    shelved_image_token: str = ""
    """Set when unshelving: once the guest runs, its shelved image (``instance.image``)
    is deleted with this token, as Nova deletes it."""


class InstanceOperation(Message):
    """A power operation: ``stop``, ``start``, ``reboot``, ``pause`` ..."""

    KIND: ClassVar[str] = "compute.operation"
    uuid: str
    operation: str
    event: str
    hard: bool = False
    rescue_image: dict[str, Any] | None = None


class Rotation(Message):
    """Which backups to prune: those of ``backup_type`` beyond the ``keep`` newest."""

    KIND: ClassVar[str] = "compute.rotation"
    backup_type: str
    keep: int = Field(ge=0)


class SnapshotInstance(Message):
    """Store the guest's disk as image ``image_id`` (created by the API, queued).

    ``token`` is the requesting user's, so the image service applies its own
    policy to the upload, as it would to the user. With ``offload`` (shelve) the
    guest is removed from the host once its image is stored.
    """

    KIND: ClassVar[str] = "compute.snapshot"
    uuid: str
    image_id: str
    token: str
    event: str
    expected_task_state: str
    offload: bool = False
    rotation: Rotation | None = None
    """For a backup: once stored, only the newest ``keep`` of its kind are kept."""


class RebuildInstance(Message):
    """Recreate the guest from ``instance.image``; a stopped server stays stopped."""

    KIND: ClassVar[str] = "compute.rebuild"
    instance: InstanceSpec
    stopped: bool = False


class FinishResize(Message):
    """Run the guest with ``instance.flavor`` here (created here when it came from elsewhere)."""

    KIND: ClassVar[str] = "compute.finish_resize"
    instance: InstanceSpec
    migration_uuid: str
    stopped: bool = False  # a stopped server is resized powered off, as Nova does


class RevertResize(Message):
    """Undo a resize here: shrink the guest back, or drop it when it came from another host."""

    KIND: ClassVar[str] = "compute.revert_resize"
    instance: InstanceSpec
    migration_uuid: str
    came_from_elsewhere: bool
    stopped: bool = False


class DropGuest(Message):
    """Remove a guest that now lives on another host (a confirmed resize's source)."""

    KIND: ClassVar[str] = "compute.drop_guest"
    uuid: str


class DestroyInstance(Message):
    KIND: ClassVar[str] = "compute.destroy"
    uuid: str


class ConsoleOutput(Message):
    KIND: ClassVar[str] = "compute.console_output"
    uuid: str
    length: int | None = None


class ConsoleText(Message):
    KIND: ClassVar[str] = "compute.console_text"
    output: str


class GetDiagnostics(Message):
    KIND: ClassVar[str] = "compute.get_diagnostics"
    uuid: str


class Diagnostics(Message):
    """A guest's diagnostics in Nova's standard form (2.48)."""

    KIND: ClassVar[str] = "compute.diagnostics"
    data: dict[str, Any]
