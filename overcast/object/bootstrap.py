"""The all-in-one's object storage: its node's devices, its rings, its hash salts.

On first start one storage node gets ``[object] device_names`` under its
devices directory, and every ring (account, container, and one object ring per
storage policy) places ``replicas`` copies on them. Later starts keep those
rings, only following the node's configured address and ports (nothing moves);
rings an operator built with ``overcast ring`` are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from overcast.common.config import ObjectSettings, Settings
from overcast.common.kept_secrets import kept
from overcast.object.ring.builder import RingBuilder
from overcast.object.ring.ring import Ring

ALL_IN_ONE = "all-in-one"
"""The ``meta`` of the devices the all-in-one placed in its rings itself."""


@dataclass(frozen=True)
class Layout:
    ring_dir: Path
    devices: Path
    hash_prefix: str
    hash_suffix: str


def ring_name(kind: str, policy: int = 0) -> str:
    """``account``, ``container``, ``object`` (policy 0) or ``object-N``."""
    return f"object-{policy}" if kind == "object" and policy else kind


def layout(settings: Settings) -> Layout:
    conf = settings.object
    prefix, suffix = conf.hash_path_prefix, conf.hash_path_suffix
    if prefix is None or suffix is None:
        salts = kept(settings.data_dir, "object_hash_prefix", "object_hash_suffix")
        prefix = salts["object_hash_prefix"] if prefix is None else prefix
        suffix = salts["object_hash_suffix"] if suffix is None else suffix
    return Layout(
        ring_dir=conf.ring_dir or settings.data_dir / "rings",
        devices=conf.devices or settings.data_dir / "object-devices",
        hash_prefix=prefix,
        hash_suffix=suffix,
    )


@dataclass(frozen=True)
class Rings:
    account: Ring
    container: Ring
    objects: dict[int, Ring]
    """Per storage policy index."""


def load_rings(settings: Settings) -> Rings:
    """The cluster's rings, each reloading when its file changes."""
    where = layout(settings)

    def ring(name: str) -> Ring:
        path = where.ring_dir / f"{name}.ring.gz"
        return Ring(path, hash_prefix=where.hash_prefix, hash_suffix=where.hash_suffix)

    return Rings(
        account=ring("account"),
        container=ring("container"),
        objects={p.index: ring(ring_name("object", p.index)) for p in settings.object.policies},
    )


def prepare(settings: Settings) -> Layout:
    """Make the node's devices and any missing ring (idempotent)."""
    conf = settings.object
    where = layout(settings)
    for name in conf.device_names:
        (where.devices / name).mkdir(parents=True, exist_ok=True)
    ports = {"account": conf.account_port, "container": conf.container_port}
    wanted = [("account", 0), ("container", 0), *(("object", p.index) for p in conf.policies)]
    for kind, policy in wanted:
        name = ring_name(kind, policy)
        port = ports.get(kind, conf.object_port)
        if not (where.ring_dir / f"{name}.ring.gz").exists():
            _build(conf, where.ring_dir, name, port)
        else:
            _follow_address(conf, where.ring_dir, name, port)
    return where


def _follow_address(conf: ObjectSettings, ring_dir: Path, name: str, port: int) -> None:
    """Point the all-in-one's own devices at the node's address and port of this start."""
    builder_path = ring_dir / f"{name}.builder"
    if not builder_path.exists():
        return
    builder = RingBuilder.load(builder_path)
    ours = [d for d in builder.devs.values() if d.meta == ALL_IN_ONE]
    moved = [d for d in ours if (d.ip, d.port) != (conf.node_ip, port)]
    if not moved:
        return
    for dev in moved:
        dev.ip, dev.port = conf.node_ip, port
    builder.version += 1
    builder.save(builder_path)
    builder.write_ring(ring_dir / f"{name}.ring.gz")


def _build(conf: ObjectSettings, ring_dir: Path, name: str, port: int) -> None:
    replicas = min(conf.replicas, len(conf.device_names))
    builder = RingBuilder(conf.part_power, replicas, min_part_hours=1)
    for zone, device in enumerate(conf.device_names, start=1):
        builder.add(
            region=1,
            zone=zone,
            ip=conf.node_ip,
            port=port,
            device=device,
            weight=100,
            meta=ALL_IN_ONE,
        )
    builder.rebalance()
    builder.save(ring_dir / f"{name}.builder")
    builder.write_ring(ring_dir / f"{name}.ring.gz")
