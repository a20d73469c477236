"""The devices a ring places partitions on, and the failure domains (tiers) they sit in."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Tier = tuple[Any, ...]


@dataclass
class Device:
    """One disk of one storage node: where a replica of a partition can live."""

    id: int
    region: int
    zone: int
    ip: str
    port: int
    device: str
    weight: float
    meta: str = ""
    parts: int = field(default=0, compare=False)
    """How many partition replicas the builder placed on it (builder state only)."""

    def tiers(self) -> tuple[Tier, Tier, Tier, Tier]:
        """Its failure domains, widest first: region, zone, server, disk.

        Two replicas of a partition should share as few of them as the devices allow.
        """
        region = (self.region,)
        zone = (*region, self.zone)
        server = (*zone, f"{self.ip}:{self.port}")
        return region, zone, server, (*server, self.id)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("parts")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Device:
        known = {"id", "region", "zone", "ip", "port", "device", "weight", "meta"}
        return cls(**{k: v for k, v in data.items() if k in known})

    def describe(self) -> str:
        return f"d{self.id}r{self.region}z{self.zone}-{self.ip}:{self.port}/{self.device}"
