"""The fake driver: guests are records in memory, with optional delays and injected faults.

It is what the all-in-one cloud and the scale tests run, so it behaves like a
hypervisor where the API can tell (power states, console output, failures
whose effects the conductor must handle) and costs nothing where it cannot.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from typing import Any

from overcast.common.config import FakeDriverSettings
from overcast.compute.messages import InstanceSpec
from overcast.compute.states import PowerState
from overcast.compute.virt.base import Driver, DriverError, Guest, HostResources, InstanceNotFound

QCOW2_HEADER = b"QFI\xfb" + b"\x00\x00\x00\x03" + bytes(96)


class FakeDriver(Driver):
    capabilities = {
        "supports_snapshot": True,
        "supports_rescue": True,
        "supports_attach_volume": False,
        "supports_attach_interface": False,
    }

    def __init__(self, host: str, conf: FakeDriverSettings) -> None:
        self.host = host
        self.conf = conf
        self.guests: dict[str, Guest] = {}

    def host_resources(self) -> HostResources:
        return HostResources(
            hypervisor_hostname=self.host,
            hypervisor_type="fake",
            hypervisor_version=1000,
            host_ip=_host_ip(),
            vcpus=self.conf.vcpus,
            memory_mb=self.conf.memory_mb,
            local_gb=self.conf.local_gb,
            cpu_info={"arch": "x86_64", "model": "fake", "vendor": "Overcast"},
        )

    async def _pause_for(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    def _get(self, uuid: str) -> Guest:
        guest = self.guests.get(uuid)
        if guest is None:
            raise InstanceNotFound(f"Instance {uuid} could not be found.")
        return guest

    async def spawn(self, instance: InstanceSpec) -> Guest:
        await self._pause_for(self.conf.spawn_seconds)
        self._inject_spawn_fault(instance.uuid)
        flavor = instance.flavor
        guest = Guest(
            uuid=instance.uuid,
            name=instance.name,
            power_state=PowerState.RUNNING,
            vcpus=int(flavor["vcpus"]),
            memory_mb=int(flavor["memory_mb"]),
            disk_gb=int(flavor["root_gb"]),
            console=boot_log(instance.name),
        )
        self.guests[instance.uuid] = guest
        return guest

    def _inject_spawn_fault(self, uuid: str) -> None:
        """Overridden by the fault-injecting variants."""

    async def destroy(self, uuid: str) -> None:
        await self._pause_for(self.conf.action_seconds)
        self.guests.pop(uuid, None)

    async def _set_power(self, uuid: str, state: int, line: str) -> None:
        guest = self._get(uuid)
        await self._pause_for(self.conf.action_seconds)
        guest.power_state = state
        guest.console.append(line)

    async def power_off(self, uuid: str) -> None:
        await self._set_power(uuid, PowerState.SHUTDOWN, "reached target Power-Off")

    async def power_on(self, uuid: str) -> None:
        await self._set_power(uuid, PowerState.RUNNING, "booting")

    async def reboot(self, uuid: str, *, hard: bool) -> None:
        await self._set_power(uuid, PowerState.RUNNING, "rebooting" + (" (hard)" if hard else ""))

    async def pause(self, uuid: str) -> None:
        await self._set_power(uuid, PowerState.PAUSED, "paused")

    async def unpause(self, uuid: str) -> None:
        await self._set_power(uuid, PowerState.RUNNING, "unpaused")

    async def suspend(self, uuid: str) -> None:
        await self._set_power(uuid, PowerState.SUSPENDED, "suspended")

    async def resume(self, uuid: str) -> None:
        await self._set_power(uuid, PowerState.RUNNING, "resumed")

    async def resize(self, uuid: str, flavor: Mapping[str, Any]) -> None:
        guest = self._get(uuid)
        await self._pause_for(self.conf.action_seconds)
        guest.vcpus = int(flavor["vcpus"])
        guest.memory_mb = int(flavor["memory_mb"])
        guest.disk_gb = int(flavor["root_gb"])
        guest.console.append(f"resized to {flavor.get('name', flavor['vcpus'])}")

    async def console_output(self, uuid: str) -> str:
        return "\n".join(self._get(uuid).console)

    def guest(self, uuid: str) -> Guest | None:
        return self.guests.get(uuid)

    async def snapshot(self, uuid: str) -> bytes:
        self._get(uuid)
        await self._pause_for(self.conf.action_seconds)
        return QCOW2_HEADER

    async def rescue(self, uuid: str, image: Mapping[str, Any]) -> None:
        await self._set_power(uuid, PowerState.RUNNING, "rescue boot")

    async def unrescue(self, uuid: str) -> None:
        await self._set_power(uuid, PowerState.RUNNING, "normal boot")


class FailOnceDriver(FakeDriver):
    """Every guest's first spawn fails (on whichever host); a reschedule then succeeds."""

    failed: set[str] = set()

    def _inject_spawn_fault(self, uuid: str) -> None:
        if uuid not in FailOnceDriver.failed:
            FailOnceDriver.failed.add(uuid)
            raise DriverError("injected fault: first spawn fails")


class FailAlwaysDriver(FakeDriver):
    def _inject_spawn_fault(self, uuid: str) -> None:
        raise DriverError("injected fault: spawn always fails")


def make_fake_driver(host: str, conf: FakeDriverSettings) -> FakeDriver:
    """The fake driver, or its fault-injecting variant that ``conf.fail_spawn`` names."""
    variants: dict[str, type[FakeDriver]] = {
        "never": FakeDriver,
        "once": FailOnceDriver,
        "always": FailAlwaysDriver,
    }
    return variants[conf.fail_spawn](host, conf)


def boot_log(name: str) -> list[str]:
    """What a fake guest's console shows after booting."""
    return [
        "[    0.000000] Linux version 6.1.0-overcast (fake)",
        "[    0.000000] Command line: root=/dev/vda1 console=ttyS0",
        "[    0.120000] virtio_blk virtio1: [vda] 2097152 512-byte logical blocks",
        "[    1.020000] EXT4-fs (vda1): mounted filesystem",
        "[    1.500000] systemd[1]: Reached target Multi-User System.",
        f"Overcast fake guest {name}",
        f"{name} login: ",
    ]


def _host_ip() -> str:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"
