"""The virt driver interface: the few verbs a compute agent needs from a hypervisor.

A driver owns guests on one host. Every method may take a while (a real one
talks to QEMU); none touches the database or the bus, the agent does. The
``capabilities`` map lets the agent ask before offering an operation instead
of catching ``NotImplementedError`` afterwards.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from overcast.compute.messages import InstanceSpec

DIAGNOSTIC_STATES = {1: "running", 3: "paused", 4: "shutdown", 6: "crashed", 7: "suspended"}
"""Power state -> the ``state`` word of standard diagnostics."""


class DriverError(Exception):
    """The hypervisor could not do what was asked."""


class InstanceNotFound(DriverError):
    """The driver has no guest with this uuid."""


@dataclass(frozen=True)
class HostResources:
    hypervisor_hostname: str
    hypervisor_type: str
    hypervisor_version: int
    host_ip: str
    vcpus: int
    memory_mb: int
    local_gb: int
    cpu_info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Guest:
    uuid: str
    name: str
    power_state: int
    vcpus: int
    memory_mb: int
    disk_gb: int
    console: list[str] = field(default_factory=list)


class Driver(ABC):
    diagnostics_family = "libvirt"
    """What diagnostics call the driver: Nova's API knows only the families libvirt,
    xenapi, vmwareapi, ironic and hyperv. A QEMU driver is of libvirt's as clients see
    it, and the fake driver says libvirt as Nova's own fake does."""
    capabilities: Mapping[str, bool] = {
        "supports_snapshot": False,
        "supports_rescue": False,
        "supports_attach_volume": False,
        "supports_attach_interface": False,
    }

    @abstractmethod
    def host_resources(self) -> HostResources:
        """What this host offers guests."""

    @abstractmethod
    async def spawn(self, instance: InstanceSpec) -> Guest:
        """Create and start a guest.

        :raises DriverError: when it cannot; whatever was half made is cleaned up.
        """

    @abstractmethod
    async def destroy(self, uuid: str) -> None:
        """Stop and remove a guest; a guest that is not there is already destroyed."""

    @abstractmethod
    async def power_off(self, uuid: str) -> None: ...

    @abstractmethod
    async def power_on(self, uuid: str) -> None: ...

    @abstractmethod
    async def reboot(self, uuid: str, *, hard: bool) -> None: ...

    @abstractmethod
    async def pause(self, uuid: str) -> None: ...

    @abstractmethod
    async def unpause(self, uuid: str) -> None: ...

    @abstractmethod
    async def suspend(self, uuid: str) -> None: ...

    @abstractmethod
    async def resume(self, uuid: str) -> None: ...

    @abstractmethod
    async def resize(self, uuid: str, flavor: Mapping[str, Any]) -> None:
        """Give a guest on this host the sizes of ``flavor`` (it restarts if it was running)."""

    @abstractmethod
    async def console_output(self, uuid: str) -> str:
        """:raises InstanceNotFound: when there is no such guest."""

    @abstractmethod
    def guest(self, uuid: str) -> Guest | None:
        """The guest with this uuid, as the hypervisor sees it now."""

    def diagnostics(self, uuid: str) -> dict[str, Any]:
        """The guest in Nova's standard diagnostics form.

        :raises InstanceNotFound: when there is no such guest.
        """
        guest = self.guest(uuid)
        if guest is None:
            raise InstanceNotFound(f"Instance {uuid} could not be found.")
        return {
            "state": DIAGNOSTIC_STATES.get(guest.power_state, "pending"),
            "driver": self.diagnostics_family,
            "hypervisor": self.host_resources().hypervisor_type,
            "hypervisor_os": "linux",
            "uptime": 0,
            "config_drive": False,
            "num_cpus": guest.vcpus,
            "num_disks": 1,
            "num_nics": 0,
            "memory_details": {"maximum": guest.memory_mb, "used": 0},
            "cpu_details": [{"id": i, "time": 0, "utilisation": None} for i in range(guest.vcpus)],
            "disk_details": [
                {
                    "read_bytes": 0,
                    "read_requests": 0,
                    "write_bytes": 0,
                    "write_requests": 0,
                    "errors_count": 0,
                }
            ],
            "nic_details": [],
        }

    async def snapshot(self, uuid: str) -> bytes:
        """The guest's root disk as image data."""
        raise NotImplementedError

    async def rescue(self, uuid: str, image: Mapping[str, Any]) -> None:
        raise NotImplementedError

    async def unrescue(self, uuid: str) -> None:
        raise NotImplementedError
