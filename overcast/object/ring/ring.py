"""The runtime ring: read-only, answering where a path's replicas live.

``get_nodes`` hashes an account, container or object path to its partition
and returns the partition's primary devices; ``handoffs`` yields the devices to
use when primaries are down, widest new failure domain first. The ring reloads
itself when its file changes (checked at most every ``reload_interval``
seconds), so a rebalance reaches running servers without a restart.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

from overcast.object.paths import hash_path
from overcast.object.ring import files
from overcast.object.ring.devices import Device

TIER_LEVELS = 4


class Ring:
    def __init__(
        self,
        path: Path,
        *,
        hash_prefix: str = "",
        hash_suffix: str = "",
        reload_interval: float = 15.0,
    ) -> None:
        self.path = path
        self._prefix = hash_prefix
        self._suffix = hash_suffix
        self.reload_interval = reload_interval
        self._next_check = 0.0
        self._mtime = -1.0
        self.version = -1
        self.part_power = 0
        self.replicas = 0
        self.devs: dict[int, Device] = {}
        self._assignments: list[array[int]] = []
        self._load()

    def _load(self) -> None:
        mtime = os.stat(self.path).st_mtime
        header, arrays = files.read(self.path)
        if header.get("kind") != "ring":
            raise files.RingFileError(f"{self.path} is not a ring file")
        self.part_power = header["part_power"]
        self.replicas = header["replicas"]
        self.version = header["version"]
        self.devs = {d["id"]: Device.from_dict(d) for d in header["devs"]}
        self._assignments = arrays
        self._part_shift = 32 - self.part_power
        self._mtime = mtime
        self._next_check = time.monotonic() + self.reload_interval

    def _fresh(self) -> None:
        """Reload when the file changed (looked at once per ``reload_interval``)."""
        if time.monotonic() < self._next_check:
            return
        self._next_check = time.monotonic() + self.reload_interval
        try:
            changed = os.stat(self.path).st_mtime != self._mtime
        except OSError:
            return  # keep serving the ring we have
        if changed:
            self._load()

    @property
    def parts(self) -> int:
        return 1 << self.part_power

    def get_part(self, account: str, container: str | None = None, obj: str | None = None) -> int:
        """The partition of ``/account[/container[/object]]``."""
        self._fresh()
        digest = hash_path(self._prefix, self._suffix, account, container, obj)
        return int.from_bytes(digest[:4], "big") >> self._part_shift

    def primaries(self, part: int) -> list[Device]:
        """The devices holding ``part``'s replicas, in replica order (each device once)."""
        self._fresh()
        seen: dict[int, Device] = {}
        for column in self._assignments:
            dev_id = column[part]
            if dev_id not in seen and dev_id in self.devs:
                seen[dev_id] = self.devs[dev_id]
        return list(seen.values())

    def get_nodes(
        self, account: str, container: str | None = None, obj: str | None = None
    ) -> tuple[int, list[Device]]:
        part = self.get_part(account, container, obj)
        return part, self.primaries(part)

    def read_order(self, part: int) -> Iterator[Device]:
        """Where a read looks: the primaries, then as many handoffs (worked out only when
        the primaries fail), where writes went while primaries were down."""
        primaries = self.primaries(part)
        return itertools.chain(primaries, itertools.islice(self.handoffs(part), len(primaries)))

    def handoffs(self, part: int) -> Iterator[Device]:
        """Devices other than the primaries, for when some of those are down.

        Those in a region, then a zone, then a server the primaries do not use
        come first; within each group the order is fixed per partition but
        differs between partitions, so one failed device's load spreads.
        """
        primaries = self.primaries(part)
        used = [{d.tiers()[level] for d in primaries} for level in range(TIER_LEVELS)]
        taken = {d.id for d in primaries}
        candidates = sorted(
            (d for d in self.devs.values() if d.id not in taken and d.weight > 0),
            key=lambda d: hashlib.md5(f"{part}/{d.id}".encode(), usedforsecurity=False).digest(),
        )
        for level in range(TIER_LEVELS):
            for dev in candidates:
                if dev.id not in taken and dev.tiers()[level] not in used[level]:
                    taken.add(dev.id)
                    yield dev
