"""Typed senders for the conductor and compute agent topics (Nova's ``rpcapi`` modules)."""

from __future__ import annotations

from typing import Any

from overcast.common.bus import Bus, Message, Target
from overcast.compute import messages as m


class ConductorClient:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.target = Target(m.CONDUCTOR)

    async def build_instances(self, uuids: list[str], token: str = "") -> None:
        await self.bus.cast(self.target, m.BuildInstances(instance_uuids=uuids, token=token))

    async def resize_instance(self, uuid: str, migration_uuid: str) -> None:
        await self.bus.cast(self.target, m.ResizeInstance(uuid=uuid, migration_uuid=migration_uuid))

    async def register_node(self, host: str, node: m.NodeResources) -> m.Registered:
        return await self.bus.call(self.target, m.RegisterNode(host=host, node=node), m.Registered)

    async def heartbeat(self, host: str) -> None:
        await self.bus.cast(self.target, m.Heartbeat(host=host))

    async def instance_update(self, update: m.InstanceUpdate) -> None:
        await self.bus.cast(self.target, update)

    async def build_failed(self, uuid: str, host: str, reason: str) -> None:
        await self.bus.cast(self.target, m.BuildFailed(uuid=uuid, host=host, reason=reason))

    async def instance_destroyed(self, uuid: str, host: str) -> None:
        await self.bus.cast(self.target, m.InstanceDestroyed(uuid=uuid, host=host))


class AgentClient:
    """Messages to the compute agent of one host."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def _on(self, host: str) -> Target:
        return Target(m.COMPUTE, host)

    async def spawn(
        self, host: str, instance: m.InstanceSpec, attempt: int, shelved_image_token: str = ""
    ) -> None:
        message = m.SpawnInstance(
            instance=instance, attempt=attempt, shelved_image_token=shelved_image_token
        )
        await self.bus.cast(self._on(host), message)

    async def operate(self, host: str, uuid: str, operation: str, event: str, **kw: Any) -> None:
        message = m.InstanceOperation(uuid=uuid, operation=operation, event=event, **kw)
        await self.bus.cast(self._on(host), message)

    async def send(self, host: str, message: Message) -> None:
        """Cast any agent message (snapshot, rebuild, resize steps) to ``host``."""
        await self.bus.cast(self._on(host), message)

    async def destroy(self, host: str, uuid: str) -> None:
        await self.bus.cast(self._on(host), m.DestroyInstance(uuid=uuid))

    async def console_output(self, host: str, uuid: str, length: int | None) -> str:
        reply = await self.bus.call(
            self._on(host), m.ConsoleOutput(uuid=uuid, length=length), m.ConsoleText
        )
        return reply.output

    async def diagnostics(self, host: str, uuid: str) -> dict[str, Any]:
        reply = await self.bus.call(self._on(host), m.GetDiagnostics(uuid=uuid), m.Diagnostics)
        return reply.data
