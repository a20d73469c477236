"""The ring: a builder that places replicas evenly and apart, and a runtime ring that finds them."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pytest

from overcast.object.ring.builder import RingBuilder, RingBuilderError
from overcast.object.ring.files import RingFileError
from overcast.object.ring.ring import Ring

HOUR = 3600.0


def builder(zones: int = 4, per_zone: int = 1, *, replicas: int = 3, weight: float = 100):
    ring = RingBuilder(8, replicas, min_part_hours=1)
    for zone in range(1, zones + 1):
        for disk in range(per_zone):
            ring.add(
                region=1,
                zone=zone,
                ip=f"10.0.0.{zone}",
                port=6200,
                device=f"sd{disk}",
                weight=weight,
            )
    return ring


def columns(ring: RingBuilder) -> list[list[int]]:
    """The devices of each partition."""
    return [[column[p] for column in ring.assignments] for p in range(ring.parts)]


def test_replicas_of_a_partition_land_in_different_zones() -> None:
    ring = builder(zones=4, per_zone=2)
    result = ring.rebalance()
    assert result.placed == ring.parts * 3 and result.moved == 0
    for devs in columns(ring):
        assert len({ring.devs[d].zone for d in devs}) == 3
    assert ring.balance() < 1.0


def test_weights_set_shares_but_zones_keep_replicas_apart() -> None:
    ring = builder(zones=4)
    ring.set_weight(3, 200)
    ring.rebalance()
    parts = Counter(d for column in ring.assignments for d in column)
    # device 3 has 40 % of the weight, but its zone may hold one replica of a partition
    assert parts[3] == ring.parts
    assert [parts[0], parts[1], parts[2]] == pytest.approx([ring.parts * 2 / 3] * 3, abs=1)
    split = builder(zones=3, per_zone=2)
    split.set_weight(0, 200)
    split.rebalance()
    parts = Counter(d for column in split.assignments for d in column)
    assert parts[0] + parts[1] == split.parts  # zone 1: one replica of each partition
    assert parts[0] == pytest.approx(2 * parts[1], abs=3)  # split by weight


def test_a_new_device_takes_its_share_once_min_part_hours_passed() -> None:
    ring = builder(zones=4)
    ring.rebalance(now=0)
    ring.add(region=1, zone=5, ip="10.0.0.5", port=6200, device="sd0", weight=100)
    moved = ring.rebalance(now=2 * HOUR)
    fair = ring.parts * 3 / 5
    assert moved.moved == pytest.approx(fair, abs=3)  # only what the new device takes moves
    assert ring.balance() < 1.5  # 768 replicas do not split evenly in five
    before = columns(ring)
    again = ring.rebalance(now=2.5 * HOUR)
    assert again.moved == 0 and columns(ring) == before


def test_min_part_hours_keeps_just_moved_partitions_in_place() -> None:
    ring = builder(zones=4)
    ring.rebalance(now=0)
    ring.add(region=1, zone=5, ip="10.0.0.5", port=6200, device="sd0", weight=100)
    ring.rebalance(now=10 * HOUR)
    ring.add(region=1, zone=6, ip="10.0.0.6", port=6200, device="sd0", weight=100)
    soon = ring.rebalance(now=10.5 * HOUR)  # parts moved at hour 10 may not move again yet
    later = ring.rebalance(now=12 * HOUR)
    assert soon.moved > 0 and later.moved > 0
    assert ring.balance() < 2.0


def test_one_replica_of_a_partition_moves_per_rebalance() -> None:
    ring = builder(zones=3)
    ring.rebalance(now=0)
    before = columns(ring)
    for zone in (4, 5, 6):
        ring.add(region=1, zone=zone, ip=f"10.0.0.{zone}", port=6200, device="sd0", weight=100)
    ring.rebalance(now=5 * HOUR)
    for old, new in zip(before, columns(ring), strict=True):
        assert sum(a != b for a, b in zip(old, new, strict=True)) <= 1


def test_a_removed_device_is_emptied_at_once_whatever_the_time() -> None:
    ring = builder(zones=4)
    ring.rebalance(now=0)
    ring.remove(0)
    result = ring.rebalance(now=0.1 * HOUR)
    assert result.moved == pytest.approx(ring.parts * 3 / 4, abs=1)
    assert 0 not in ring.devs
    assert all(0 not in devs for devs in columns(ring))
    for devs in columns(ring):
        assert len({ring.devs[d].zone for d in devs}) == 3


def test_bad_requests_are_refused_with_a_reason() -> None:
    with pytest.raises(RingBuilderError, match="part power"):
        RingBuilder(40, 3)
    ring = builder(zones=2)
    with pytest.raises(RingBuilderError, match="at least 3 devices"):
        ring.rebalance()
    with pytest.raises(RingBuilderError, match="already"):
        ring.add(region=1, zone=1, ip="10.0.0.1", port=6200, device="sd0", weight=1)
    with pytest.raises(RingBuilderError, match="no device with id 9"):
        ring.set_weight(9, 10)
    with pytest.raises(RingBuilderError, match="rebalance first"):
        ring.write_ring(Path("/nonexistent/ring.gz"))


def test_builder_and_ring_files_round_trip(tmp_path: Path) -> None:
    ring = builder(zones=4)
    ring.rebalance(now=0)
    ring.save(tmp_path / "object.builder")
    loaded = RingBuilder.load(tmp_path / "object.builder")
    assert columns(loaded) == columns(ring)
    assert loaded.devs == ring.devs and loaded.min_part_hours == 1
    loaded.write_ring(tmp_path / "object.ring.gz")
    with pytest.raises(RingFileError):
        RingBuilder.load(tmp_path / "object.ring.gz")
    (tmp_path / "junk").write_bytes(b"not a ring")
    with pytest.raises(RingFileError):
        Ring(tmp_path / "junk")


def test_the_runtime_ring_finds_primaries_and_handoffs(tmp_path: Path) -> None:
    ring = builder(zones=4, per_zone=2)
    ring.rebalance()
    ring.write_ring(tmp_path / "object.ring.gz")
    runtime = Ring(tmp_path / "object.ring.gz", hash_prefix="p", hash_suffix="s")
    part, nodes = runtime.get_nodes("AUTH_a", "c", "o")
    assert part == runtime.get_part("AUTH_a", "c", "o") < runtime.parts
    assert [n.id for n in nodes] == [column[part] for column in ring.assignments]
    handoffs = list(runtime.handoffs(part))
    assert len(handoffs) == len(ring.devs) - 3
    assert not {h.id for h in handoffs} & {n.id for n in nodes}
    assert handoffs[0].zone not in {n.zone for n in nodes}  # the unused zone first
    assert list(runtime.read_order(part)) == [*nodes, *handoffs[:3]]  # as many handoffs
    salted = Ring(tmp_path / "object.ring.gz", hash_prefix="other")
    parts = {runtime.get_part("AUTH_a", "c", f"o{i}") for i in range(200)}
    assert len(parts) > 100  # objects spread over partitions
    assert [salted.get_part("AUTH_a", "c", f"o{i}") for i in range(50)] != [
        runtime.get_part("AUTH_a", "c", f"o{i}") for i in range(50)
    ]


def test_the_runtime_ring_reloads_when_its_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "object.ring.gz"
    ring = builder(zones=3)
    ring.rebalance(now=0)
    ring.write_ring(path)
    runtime = Ring(path, reload_interval=0)
    assert len(runtime.devs) == 3
    ring.add(region=1, zone=4, ip="10.0.0.4", port=6200, device="sd0", weight=100)
    ring.rebalance(now=2 * HOUR)
    ring.write_ring(path)
    later = time.time() + 5
    os.utime(path, (later, later))
    assert len(runtime.devs) == 3  # nothing read until asked
    runtime.get_part("AUTH_a")
    assert len(runtime.devs) == 4 and runtime.version == ring.version
