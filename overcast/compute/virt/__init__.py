"""Virt drivers: what a compute agent calls to make and run guests."""

from overcast.compute.virt.base import Driver, DriverError, Guest, HostResources, InstanceNotFound
from overcast.compute.virt.fake import FakeDriver, make_fake_driver

__all__ = [
    "Driver",
    "DriverError",
    "FakeDriver",
    "Guest",
    "HostResources",
    "InstanceNotFound",
    "make_fake_driver",
]
