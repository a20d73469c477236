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


class InstanceOperation(Message):
    """A power operation: ``stop``, ``start``, ``reboot``, ``pause`` ..."""

    KIND: ClassVar[str] = "compute.operation"
    uuid: str
    operation: str
    event: str
    hard: bool = False


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
