"""The ring builder: offline and mutable. Devices are added, weighed and removed here;
``rebalance`` decides which device holds each replica of each partition, and
``write_ring`` gives storage nodes and proxies the read-only result.

Partitions are the unit of placement: an object's path hashes to one of
``2 ** part_power`` partitions, and the ring keeps ``replicas`` devices for
each. The builder keeps, per replica, an array of device ids indexed by
partition (replica-major, so one replica's column is one compact array).
"""

from __future__ import annotations

import math
import time
from array import array
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from overcast.object.ring import files
from overcast.object.ring.devices import Device, Tier

NOWHERE = 0xFFFF
"""The device id of a replica not placed yet (the arrays hold unsigned 16-bit ids)."""
MAX_PART_POWER = 24
TIER_LEVELS = 4  # region, zone, server, disk


class RingBuilderError(ValueError):
    """A builder request that cannot be done (the message says why)."""


@dataclass(frozen=True)
class Rebalanced:
    placed: int
    """Replicas given a device, moves included."""
    moved: int
    """Replicas that left a device (whose data must move)."""
    balance: float
    """The worst device's distance from its fair share of replicas, in percent."""


def _preference(
    dev: Device,
    *,
    tiers: Mapping[int, tuple[Tier, ...]],
    used: list[set[Tier]],
    share: dict[int, float],
) -> tuple[Any, ...]:
    """How much a loose replica wants ``dev``: new failure domains (widest first), then
    the device least full for its share, then the bigger share."""
    mine = tiers[dev.id]
    new_domains = tuple(mine[level] not in used[level] for level in range(TIER_LEVELS))
    return (*new_domains, -dev.parts / share[dev.id], share[dev.id], -dev.id)


def _worst(active: list[Device], share: dict[int, float]) -> float:
    return max(abs(d.parts - share[d.id]) * 100 / share[d.id] for d in active)


class RingBuilder:
    def __init__(self, part_power: int, replicas: int, min_part_hours: int = 1) -> None:
        if not 1 <= part_power <= MAX_PART_POWER:
            raise RingBuilderError(f"part power must be 1 to {MAX_PART_POWER}, not {part_power}")
        if replicas < 1:
            raise RingBuilderError(f"replicas must be at least 1, not {replicas}")
        if min_part_hours < 0:
            raise RingBuilderError("min_part_hours must not be negative")
        self.part_power = part_power
        self.replicas = replicas
        self.min_part_hours = min_part_hours
        self.devs: dict[int, Device] = {}
        self.removing: set[int] = set()
        """Devices whose partitions leave at the next rebalance, which then forgets them."""
        self.assignments: list[array[int]] = []
        """``assignments[replica][partition]``: a device id (empty until the first rebalance)."""
        self.last_moved: array[int] = array("I")
        """Per partition, the hour (since the epoch) a replica of it last moved; 0: never."""
        self.version = 0

    @property
    def parts(self) -> int:
        return 1 << self.part_power

    # -- devices ----------------------------------------------------------------------

    def add(
        self,
        *,
        region: int,
        zone: int,
        ip: str,
        port: int,
        device: str,
        weight: float,
        meta: str = "",
    ) -> Device:
        """A new device (it takes partitions at the next rebalance)."""
        if weight < 0:
            raise RingBuilderError("a device's weight must not be negative")
        for dev in self.devs.values():
            if (dev.ip, dev.port, dev.device) == (ip, port, device):
                raise RingBuilderError(f"{ip}:{port}/{device} is already {dev.describe()}")
        new_id = max(self.devs, default=-1) + 1
        if new_id >= NOWHERE:
            raise RingBuilderError("a ring holds at most 65535 devices")
        dev = Device(new_id, region, zone, ip, port, device, float(weight), meta)
        self.devs[new_id] = dev
        self.version += 1
        return dev

    def set_weight(self, dev_id: int, weight: float) -> Device:
        if weight < 0:
            raise RingBuilderError("a device's weight must not be negative")
        dev = self.device(dev_id)
        dev.weight = float(weight)
        self.version += 1
        return dev

    def remove(self, dev_id: int) -> Device:
        """Mark a device for removal: its replicas move away at the next rebalance."""
        dev = self.device(dev_id)
        self.removing.add(dev_id)
        self.version += 1
        return dev

    def device(self, dev_id: int) -> Device:
        try:
            return self.devs[dev_id]
        except KeyError:
            raise RingBuilderError(f"no device with id {dev_id}") from None

    # -- rebalancing --------------------------------------------------------------------

    def rebalance(self, now: float | None = None) -> Rebalanced:
        """Place every replica, moving as little as the devices' weights allow.

        In order: replicas on removed or zero-weight devices (always); then, for
        partitions not moved within ``min_part_hours``, replicas that share a
        failure domain more than the devices require, and replicas on devices
        holding more than their share. At most one replica of a partition moves
        in one rebalance (beyond the ones that must), so the others stay
        readable while it travels. Each loose replica then goes to the device
        that keeps it in the widest new failure domain and is the least full
        for its share (so devices of one crowded zone split it by weight).
        """
        hour = int((time.time() if now is None else now) // 3600)
        active = [d for d in self.devs.values() if d.weight > 0 and d.id not in self.removing]
        if len(active) < self.replicas:
            raise RingBuilderError(
                f"{self.replicas} replicas need at least {self.replicas} devices with weight; "
                f"there are {len(active)}"
            )
        if not self.assignments:
            self.assignments = [array("H", [NOWHERE]) * self.parts for _ in range(self.replicas)]
            self.last_moved = array("I", [0]) * self.parts
        self._count()
        share = self._shares(active)
        moving: set[int] = set()
        loose = [*self._unplaced(), *self._from_leaving(active, moving)]
        loose += self._for_dispersion(active, hour, moving)
        loose += self._from_overloaded(share, hour, moving)
        moved = sum(1 for _, _, had in loose if had != NOWHERE)
        self._place(loose, active, share, hour)
        for dev_id in self.removing:
            del self.devs[dev_id]
        self.removing.clear()
        self.version += 1
        # the placement kept every device's count: no need to count the arrays again
        return Rebalanced(placed=len(loose), moved=moved, balance=_worst(active, share))

    def balance(self) -> float:
        """The worst device's distance from its fair share, in percent (0: perfect)."""
        active = [d for d in self.devs.values() if d.weight > 0 and d.id not in self.removing]
        if not active or not self.assignments:
            return 0.0
        self._count()
        return _worst(active, self._shares(active))

    def _count(self) -> None:
        counts = Counter(dev_id for column in self.assignments for dev_id in column)
        for dev in self.devs.values():
            dev.parts = counts.get(dev.id, 0)

    def _shares(self, active: list[Device]) -> dict[int, float]:
        """How many replicas each device should hold, by its weight."""
        total = sum(d.weight for d in active)
        slots = self.parts * self.replicas
        return {d.id: slots * d.weight / total for d in active}

    def _replicas_of(self, part: int) -> Iterator[tuple[int, int]]:
        for replica, column in enumerate(self.assignments):
            yield replica, column[part]

    def _unassign(self, part: int, replica: int) -> tuple[int, int, int]:
        had = self.assignments[replica][part]
        self.assignments[replica][part] = NOWHERE
        if had != NOWHERE:
            self.devs[had].parts -= 1
        return part, replica, had

    def _movable(self, part: int, hour: int, moving: set[int]) -> bool:
        if part in moving:
            return False
        last = self.last_moved[part]
        return last == 0 or hour - last >= self.min_part_hours

    def _unplaced(self) -> Iterator[tuple[int, int, int]]:
        for replica, column in enumerate(self.assignments):
            for part, dev_id in enumerate(column):
                if dev_id == NOWHERE:
                    yield part, replica, NOWHERE

    def _from_leaving(self, active: list[Device], moving: set[int]) -> list[tuple[int, int, int]]:
        """Replicas on devices being removed or weighed zero: they go whatever the time."""
        staying = {d.id for d in active}
        loose = []
        for replica, column in enumerate(self.assignments):
            for part, dev_id in enumerate(column):
                if dev_id != NOWHERE and dev_id not in staying:
                    loose.append(self._unassign(part, replica))
                    moving.add(part)
        return loose

    def _for_dispersion(
        self, active: list[Device], hour: int, moving: set[int]
    ) -> list[tuple[int, int, int]]:
        """A replica from each partition that crowds a failure domain more than it must.

        With n domains at a level, a partition need not put more than
        ceil(replicas / n) of its replicas in any one of them.
        """
        limits = [
            math.ceil(self.replicas / len({d.tiers()[level] for d in active}))
            for level in range(TIER_LEVELS)
        ]
        loose = []
        for part in range(self.parts):
            if not self._movable(part, hour, moving):
                continue
            placed = [(r, self.devs[d]) for r, d in self._replicas_of(part) if d != NOWHERE]
            crowded = self._crowding(placed, limits)
            if crowded is not None:
                loose.append(self._unassign(part, crowded))
                moving.add(part)
        return loose

    @staticmethod
    def _crowding(placed: list[tuple[int, Device]], limits: list[int]) -> int | None:
        """The replica to move off a crowded domain (widest level first), if any."""
        for level, limit in enumerate(limits):
            domains = Counter(dev.tiers()[level] for _, dev in placed)
            for replica, dev in reversed(placed):
                if domains[dev.tiers()[level]] > limit:
                    return replica
        return None

    def _from_overloaded(
        self, share: dict[int, float], hour: int, moving: set[int]
    ) -> list[tuple[int, int, int]]:
        """Replicas from devices holding more than their share (rounded up)."""
        excess = {
            dev_id: self.devs[dev_id].parts - math.ceil(want)
            for dev_id, want in share.items()
            if self.devs[dev_id].parts > math.ceil(want)
        }
        loose = []
        for replica, column in enumerate(self.assignments):
            for part, dev_id in enumerate(column):
                if excess.get(dev_id, 0) > 0 and self._movable(part, hour, moving):
                    loose.append(self._unassign(part, replica))
                    moving.add(part)
                    excess[dev_id] -= 1
        return loose

    def _place(
        self,
        loose: list[tuple[int, int, int]],
        active: list[Device],
        share: dict[int, float],
        hour: int,
    ) -> None:
        tiers = {dev.id: dev.tiers() for dev in self.devs.values()}
        for part, replica, had in sorted(loose):
            others = [d for _, d in self._replicas_of(part) if d != NOWHERE]
            used = [{tiers[d][level] for d in others} for level in range(TIER_LEVELS)]
            best = max(active, key=partial(_preference, tiers=tiers, used=used, share=share))
            self.assignments[replica][part] = best.id
            best.parts += 1
            if had not in (NOWHERE, best.id):
                self.last_moved[part] = hour

    # -- files --------------------------------------------------------------------------

    def ring_header(self) -> dict[str, Any]:
        return {
            "kind": "ring",
            "part_power": self.part_power,
            "replicas": self.replicas,
            "version": self.version,
            "devs": [d.to_dict() for d in sorted(self.devs.values(), key=lambda d: d.id)],
        }

    def write_ring(self, path: Path) -> None:
        """The read-only ring for proxies and storage nodes (after a rebalance)."""
        if not self.assignments or self.removing:
            raise RingBuilderError("rebalance first: the ring is not placed yet")
        files.write(path, self.ring_header(), self.assignments)

    def save(self, path: Path) -> None:
        header = {
            **self.ring_header(),
            "kind": "builder",
            "min_part_hours": self.min_part_hours,
            "removing": sorted(self.removing),
            "placed": bool(self.assignments),
        }
        arrays = [*self.assignments, self.last_moved] if self.assignments else []
        files.write(path, header, arrays)

    @classmethod
    def load(cls, path: Path) -> RingBuilder:
        header, arrays = files.read(path)
        if header.get("kind") != "builder":
            raise files.RingFileError(f"{path} is not a builder file")
        builder = cls(header["part_power"], header["replicas"], header["min_part_hours"])
        builder.devs = {d["id"]: Device.from_dict(d) for d in header["devs"]}
        builder.removing = set(header["removing"])
        builder.version = header["version"]
        if header["placed"]:
            *builder.assignments, builder.last_moved = arrays
        return builder
