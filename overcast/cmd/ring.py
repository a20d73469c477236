"""``overcast ring``: build the account, container and object rings (offline).

Each ring has a builder file (``NAME.builder``, the mutable state) and a ring
file (``NAME.ring.gz``, what servers read) in DATA_DIR/rings. ``rebalance``
writes both; servers pick the new ring up by themselves.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from overcast.object.ring.builder import RingBuilder, RingBuilderError
from overcast.object.ring.files import RingFileError

app = typer.Typer(no_args_is_help=True, help=__doc__)
out = Console()
err = Console(stderr=True)
RING_NAME = re.compile(r"^(account|container|object(-[1-9][0-9]*)?)$")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: $OVERCAST_DATA_DIR or ./data)."),
]
RingName = Annotated[
    str,
    typer.Option("--ring", help="account, container, object (policy 0) or object-N (policy N)."),
]


def ring_dir(data_dir: Path | None) -> Path:
    return (data_dir or Path(os.environ.get("OVERCAST_DATA_DIR", "data"))) / "rings"


def _paths(data_dir: Path | None, name: str) -> tuple[Path, Path]:
    if not RING_NAME.match(name):
        _fail(f"no ring is called {name!r}: use account, container, object or object-N")
    folder = ring_dir(data_dir)
    return folder / f"{name}.builder", folder / f"{name}.ring.gz"


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _load(data_dir: Path | None, name: str) -> tuple[RingBuilder, Path]:
    builder_path, _ = _paths(data_dir, name)
    if not builder_path.exists():
        _fail(f"{builder_path} does not exist: run `overcast ring create` first")
    try:
        return RingBuilder.load(builder_path), builder_path
    except RingFileError as exc:
        _fail(str(exc))


@app.command()
def create(
    part_power: Annotated[int, typer.Option(help="2**N partitions.")],
    replicas: Annotated[int, typer.Option(help="Copies of everything.")],
    min_part_hours: Annotated[
        int, typer.Option(help="Hours before a moved partition may move again.")
    ] = 1,
    ring: RingName = "object",
    data_dir: DataDir = None,
    force: Annotated[bool, typer.Option(help="Replace an existing builder.")] = False,
) -> None:
    """Start a ring with no devices."""
    builder_path, _ = _paths(data_dir, ring)
    if builder_path.exists() and not force:
        _fail(f"{builder_path} exists (--force replaces it)")
    try:
        builder = RingBuilder(part_power, replicas, min_part_hours)
    except RingBuilderError as exc:
        _fail(str(exc))
    builder.save(builder_path)
    out.print(f"{ring}: {builder.parts} partitions, {replicas} replicas -> {builder_path}")


@app.command()
def add(
    ip: Annotated[str, typer.Option(help="The storage node's address.")],
    port: Annotated[int, typer.Option(help="The storage node's port.")],
    device: Annotated[str, typer.Option(help="The device's directory name on that node.")],
    weight: Annotated[float, typer.Option(help="Its share of partitions, relative to others.")],
    region: Annotated[int, typer.Option()] = 1,
    zone: Annotated[int, typer.Option()] = 1,
    meta: Annotated[str, typer.Option()] = "",
    ring: RingName = "object",
    data_dir: DataDir = None,
) -> None:
    """Add a device (it takes partitions at the next rebalance)."""
    builder, path = _load(data_dir, ring)
    try:
        dev = builder.add(
            region=region, zone=zone, ip=ip, port=port, device=device, weight=weight, meta=meta
        )
    except RingBuilderError as exc:
        _fail(str(exc))
    builder.save(path)
    out.print(f"added {dev.describe()} weight {dev.weight:g}")


@app.command("set-weight")
def set_weight(
    dev_id: Annotated[int, typer.Argument(metavar="ID")],
    weight: Annotated[float, typer.Argument()],
    ring: RingName = "object",
    data_dir: DataDir = None,
) -> None:
    """Change a device's weight (0 empties it at the next rebalance)."""
    builder, path = _load(data_dir, ring)
    try:
        dev = builder.set_weight(dev_id, weight)
    except RingBuilderError as exc:
        _fail(str(exc))
    builder.save(path)
    out.print(f"{dev.describe()} weight {dev.weight:g}")


@app.command()
def remove(
    dev_id: Annotated[int, typer.Argument(metavar="ID")],
    ring: RingName = "object",
    data_dir: DataDir = None,
) -> None:
    """Remove a device: its partitions move away at the next rebalance."""
    builder, path = _load(data_dir, ring)
    try:
        dev = builder.remove(dev_id)
    except RingBuilderError as exc:
        _fail(str(exc))
    builder.save(path)
    out.print(f"{dev.describe()} will be removed at the next rebalance")


@app.command()
def rebalance(ring: RingName = "object", data_dir: DataDir = None) -> None:
    """Place every partition's replicas and write the ring file."""
    builder, path = _load(data_dir, ring)
    _, ring_path = _paths(data_dir, ring)
    try:
        result = builder.rebalance()
    except RingBuilderError as exc:
        _fail(str(exc))
    builder.save(path)
    builder.write_ring(ring_path)
    out.print(
        f"{ring}: placed {result.placed} replicas ({result.moved} moved), "
        f"balance {result.balance:.2f} % -> {ring_path}"
    )


@app.command()
def show(ring: RingName = "object", data_dir: DataDir = None) -> None:
    """The ring's devices, their weights and how many replicas each holds."""
    builder, _ = _load(data_dir, ring)
    out.print(
        f"{ring}: {builder.parts} partitions, {builder.replicas} replicas, "
        f"min_part_hours {builder.min_part_hours}, balance {builder.balance():.2f} %, "
        f"version {builder.version}"
    )
    table = Table("id", "region", "zone", "ip:port", "device", "weight", "partitions", "meta")
    for dev in sorted(builder.devs.values(), key=lambda d: d.id):
        leaving = " (removing)" if dev.id in builder.removing else ""
        table.add_row(
            str(dev.id),
            str(dev.region),
            str(dev.zone),
            f"{dev.ip}:{dev.port}",
            dev.device + leaving,
            f"{dev.weight:g}",
            str(dev.parts),
            dev.meta,
        )
    out.print(table)
