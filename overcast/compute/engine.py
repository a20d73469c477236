"""Starting the compute service's moving parts: scheduler + conductor, and compute agents."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from overcast.common.bus import Bus, Consumer
from overcast.common.clients import ImageClient
from overcast.common.config import Settings
from overcast.compute.agent import ComputeAgent
from overcast.compute.conductor import Conductor
from overcast.compute.service import ComputeService
from overcast.compute.virt import make_fake_driver
from overcast.scheduler.manager import DEFAULT_FILTERS, SchedulerManager


@dataclass
class Control:
    """A scheduler and a conductor, serving in this process."""

    scheduler: SchedulerManager
    consumer: Consumer
    conductor: Conductor

    async def stop(self) -> None:
        await self.conductor.stop()
        await self.consumer.stop()


async def start_control(service: ComputeService, name: str | None = None) -> Control:
    """Serve a scheduler (its index filled from the database) and a conductor on the bus."""
    host = name or socket.gethostname()
    scheduler = SchedulerManager(host, filters=service.conf.scheduler_filters or DEFAULT_FILTERS)
    consumer = await scheduler.serve(service.bus)
    conductor = Conductor(service, host)
    await conductor.start()
    return Control(scheduler, consumer, conductor)


def agent_host(settings: Settings) -> str:
    return settings.compute.host or socket.gethostname()


async def start_agent(
    settings: Settings, bus: Bus, host: str | None = None, images: ImageClient | None = None
) -> ComputeAgent:
    """A compute agent with the configured driver, registered and serving.

    ``images`` is how it reaches the image service (snapshots); by default over HTTP.
    """
    name = host or agent_host(settings)
    driver = make_fake_driver(name, settings.compute.fake)
    images = images or ImageClient(settings.service_url(settings.image.port))
    agent = ComputeAgent(name, bus, driver, settings.compute, images)
    await agent.start()
    return agent
