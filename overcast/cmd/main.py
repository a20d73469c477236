"""``overcast``: run the cloud, or one of its parts, and manage it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from overcast.cmd import allinone, runtime
from overcast.cmd import ring as ring_commands
from overcast.cmd.services import (
    ALL_IN_ONE,
    ALL_IN_ONE_ENGINES,
    ENGINES,
    ROLE_GROUPS,
    SERVICES,
)
from overcast.common import logging as overcast_logging
from overcast.common.config import ConfigError, Settings
from overcast.common.server import PortInUse
from overcast.identity.keys import KeyRepository

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
identity_app = typer.Typer(no_args_is_help=True, help="Identity service maintenance.")
app.add_typer(db_app, name="db")
app.add_typer(identity_app, name="identity")
app.add_typer(ring_commands.app, name="ring")
console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: $OVERCAST_DATA_DIR or ./data)."),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config", help="TOML configuration (default: $OVERCAST_CONFIG or DATA_DIR/overcast.toml)."
    ),
]
Workers = Annotated[int | None, typer.Option("--workers", min=1, help="Worker processes.")]


def load_settings(data_dir: Path | None, config: Path | None) -> Settings:
    environ = dict(os.environ)
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if config is None and not environ.get("OVERCAST_CONFIG"):
        base = data_dir or Path(environ.get("OVERCAST_DATA_DIR", "data"))
        candidate = base / "overcast.toml"
        config = candidate if candidate.exists() else None
    try:
        settings = Settings.load(config, environ, **overrides)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    overcast_logging.configure(settings.log_level)
    return settings


@app.command()
def up(data_dir: DataDir = None, config: ConfigFile = None, workers: Workers = None) -> None:
    """Start the all-in-one cloud in the foreground (Ctrl-C stops it; data is kept)."""
    settings = load_settings(data_dir, config)
    prepared = asyncio.run(allinone.prepare(settings, ALL_IN_ONE))
    count = workers or settings.server.workers
    _print_summary(settings, prepared, config, count)
    _serve(settings, (*ALL_IN_ONE, *ALL_IN_ONE_ENGINES), count)


@app.command()
def serve(
    roles: Annotated[
        list[str],
        typer.Argument(help=f"Any of: {', '.join([*SERVICES, *ROLE_GROUPS, *ENGINES])}."),
    ],
    data_dir: DataDir = None,
    config: ConfigFile = None,
    workers: Workers = None,
) -> None:
    """Serve parts of the cloud in one process (first: `overcast db upgrade`)."""
    known = [*SERVICES, *ROLE_GROUPS, *ENGINES]
    for role in roles:
        if role not in known:
            console.print(f"[red]error:[/red] unknown role {role!r}; roles: {', '.join(known)}")
            raise typer.Exit(2)
    parts = tuple(dict.fromkeys(p for role in roles for p in ROLE_GROUPS.get(role, (role,))))
    settings = load_settings(data_dir, config)
    _serve(settings, parts, workers or settings.server.workers)


@app.command()
def bootstrap(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Create (idempotently) the admin and demo accounts, roles and catalog, without serving."""
    settings = load_settings(data_dir, config)
    prepared = asyncio.run(allinone.prepare(settings, ALL_IN_ONE))
    console.print(f"bootstrapped; clouds.yaml: {prepared.clouds_yaml}")


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Apply every database migration."""
    settings = load_settings(data_dir, config)
    asyncio.run(allinone.upgrade_databases(settings))
    console.print("databases are up to date")


@identity_app.command("rotate-keys")
def rotate_keys(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Rotate the token keys: the staged key becomes primary and a new key is staged."""
    settings = load_settings(data_dir, config)
    path = settings.identity.key_repository or settings.data_dir / "fernet-keys"
    repo = KeyRepository(path, settings.identity.max_active_keys)
    repo.setup()
    primary = repo.rotate()
    console.print(f"token keys rotated; primary key is now {primary}")


def _serve(settings: Settings, names: tuple[str, ...], workers: int) -> None:
    try:
        runtime.serve(settings, names, workers)
    except PortInUse as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


def _print_summary(
    settings: Settings, prepared: allinone.Prepared, config: Path | None, workers: int
) -> None:
    out = Console()
    plural = "s" if workers > 1 else ""
    data = settings.data_dir.resolve()
    out.print(f"[bold]Overcast is up[/bold] ({workers} worker{plural}); data in {data}")
    config_text = config.resolve() if config else "(none: defaults; see README for overcast.toml)"
    out.print(f"  config:      {config_text}")
    for name in ALL_IN_ONE:
        if SERVICES[name].catalog_type is not None:
            out.print(f"  {name:<12} {SERVICES[name].url(settings)}")
    boot, creds = settings.bootstrap, prepared.credentials
    for label, user, password, project in (
        ("admin", boot.admin_username, creds.admin_password, boot.admin_project),
        ("demo", boot.demo_username, creds.demo_password, boot.demo_project),
    ):
        out.print(f"  {label + ':':<12} {user} / {password}  (project {project})")
    out.print(
        f"  clouds.yaml: {prepared.clouds_yaml.resolve()}  (clouds overcast-admin, overcast-demo)"
    )
    out.print(f"  openrc:      {prepared.openrc.resolve()}")
    out.print("Try: openstack --os-cloud overcast-admin token issue    (Ctrl-C stops the cloud)")


def main() -> None:
    app()
