"""The all-in-one's object storage layout: devices, rings and salts made once, then kept."""

from __future__ import annotations

import json
from pathlib import Path

from overcast.common.config import Settings
from overcast.object.bootstrap import layout, prepare
from overcast.object.ring.ring import Ring


def test_first_start_makes_devices_rings_and_salts(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path)
    made = prepare(settings)
    assert sorted(p.name for p in made.devices.iterdir()) == ["d1", "d2", "d3"]
    rings = sorted(p.name for p in made.ring_dir.glob("*.ring.gz"))
    assert rings == ["account.ring.gz", "container.ring.gz", "object-1.ring.gz", "object.ring.gz"]
    objects = Ring(made.ring_dir / "object.ring.gz")
    assert objects.replicas == 3 and objects.parts == 1024
    assert {d.port for d in objects.devs.values()} == {6200}
    assert {d.port for d in Ring(made.ring_dir / "account.ring.gz").devs.values()} == {6202}
    part = objects.get_part("AUTH_a", "c", "o")
    assert len({d.device for d in objects.primaries(part)}) == 3
    salts = json.loads((tmp_path / "secrets.json").read_text())
    assert made.hash_prefix == salts["object_hash_prefix"]


def test_a_second_start_keeps_what_is_there(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path)
    first = prepare(settings)
    ring = first.ring_dir / "object.ring.gz"
    before = ring.read_bytes()
    again = prepare(settings)
    assert again == first and ring.read_bytes() == before
    assert layout(settings).hash_suffix == first.hash_suffix


def test_configured_salts_win(tmp_path: Path) -> None:
    settings = Settings.load(
        data_dir=tmp_path, object={"hash_path_prefix": "p", "hash_path_suffix": "s"}
    )
    assert (layout(settings).hash_prefix, layout(settings).hash_suffix) == ("p", "s")


def test_the_all_in_one_rings_follow_the_nodes_ports(tmp_path: Path) -> None:
    prepare(Settings.load(data_dir=tmp_path))
    moved = prepare(Settings.load(data_dir=tmp_path, object={"object_port": 16200}))
    ring = Ring(moved.ring_dir / "object.ring.gz")
    assert {d.port for d in ring.devs.values()} == {16200}
    assert {d.port for d in Ring(moved.ring_dir / "container.ring.gz").devs.values()} == {6201}
