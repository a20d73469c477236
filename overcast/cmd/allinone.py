"""Preparing a cloud: migrations, keys, bootstrap data, clouds.yaml and openrc."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from overcast.cmd.services import SERVICES
from overcast.common.config import Settings
from overcast.common.kept_secrets import kept, write_private
from overcast.compute.bootstrap import seed_flavors
from overcast.compute.service import ComputeService
from overcast.identity.bootstrap import Account, CatalogService, bootstrap
from overcast.identity.service import IdentityService
from overcast.image import bootstrap as image_bootstrap
from overcast.image.service import ImageService
from overcast.object import bootstrap as object_bootstrap


@dataclass(frozen=True)
class Credentials:
    admin_password: str
    demo_password: str


@dataclass(frozen=True)
class Prepared:
    credentials: Credentials
    clouds_yaml: Path
    openrc: Path


def credentials(settings: Settings) -> Credentials:
    """Configured passwords, or ones generated on first start and kept in ``secrets.json``."""
    stored = kept(settings.data_dir, "admin_password", "demo_password")
    boot = settings.bootstrap
    return Credentials(
        admin_password=boot.admin_password or stored["admin_password"],
        demo_password=boot.demo_password or stored["demo_password"],
    )


async def upgrade_databases(settings: Settings) -> None:
    identity = IdentityService(settings)
    try:
        await identity.migrate()
    finally:
        await identity.close()
    image = ImageService(settings)
    try:
        await image.migrate()
    finally:
        await image.close()
    compute = ComputeService(settings)
    try:
        await compute.migrate()
    finally:
        await compute.close()


async def prepare_compute(settings: Settings) -> None:
    """Migrate the compute database and give a new cloud its default flavors."""
    compute = ComputeService(settings)
    try:
        await compute.migrate()
        await seed_flavors(compute)
    finally:
        await compute.close()


async def seed_images(settings: Settings, owner: str) -> list[str]:
    """Import the disk images of the seed directory (once each) as public images."""
    image = ImageService(settings)
    try:
        await image.migrate()
        directory = settings.bootstrap.image_dir or settings.data_dir / "seed-images"
        return await image_bootstrap.seed_images(image, directory, owner)
    finally:
        await image.close()


async def run_bootstrap(settings: Settings, names: Sequence[str]) -> Credentials:
    creds = credentials(settings)
    boot = settings.bootstrap
    identity = IdentityService(settings)
    try:
        await identity.migrate()
        identity.setup_keys()
        projects = await bootstrap(
            identity,
            admin=Account(
                boot.admin_username,
                creds.admin_password,
                boot.admin_project,
                "admin",
                enforce_password=boot.admin_password is not None,
            ),
            demo=Account(
                boot.demo_username,
                creds.demo_password,
                boot.demo_project,
                "member",
                enforce_password=boot.demo_password is not None,
            ),
            region=boot.region,
            catalog=[
                CatalogService(service.catalog_type, service.catalog_name, service.url(settings))
                for service in (SERVICES[n] for n in names)
                if service.catalog_type is not None
            ],
        )
    finally:
        await identity.close()
    if "image" in names:
        await seed_images(settings, projects[boot.admin_project])
    if "compute" in names:
        await prepare_compute(settings)
    if "object" in names or "object-server" in names:
        object_bootstrap.prepare(settings)
    return creds


async def prepare(settings: Settings, names: Sequence[str]) -> Prepared:
    creds = await run_bootstrap(settings, names)
    clouds = write_clouds_yaml(settings, creds)
    openrc = write_openrc(settings, creds)
    return Prepared(creds, clouds, openrc)


def _cloud(settings: Settings, user: str, password: str, project: str) -> dict[str, object]:
    return {
        "auth": {
            "auth_url": SERVICES["identity"].url(settings).rstrip("/"),
            "username": user,
            "password": password,
            "project_name": project,
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        },
        "region_name": settings.bootstrap.region,
        "interface": "public",
        "identity_api_version": 3,
    }


def write_clouds_yaml(settings: Settings, creds: Credentials) -> Path:
    boot = settings.bootstrap
    document = {
        "clouds": {
            "overcast-admin": _cloud(
                settings, boot.admin_username, creds.admin_password, boot.admin_project
            ),
            "overcast-demo": _cloud(
                settings, boot.demo_username, creds.demo_password, boot.demo_project
            ),
        }
    }
    path = settings.data_dir / "clouds.yaml"
    write_private(path, yaml.safe_dump(document, sort_keys=False))
    return path


def write_openrc(settings: Settings, creds: Credentials) -> Path:
    boot = settings.bootstrap
    lines = [
        "# Source me: . openrc   (admin credentials of this Overcast cloud)",
        f"export OS_AUTH_URL={SERVICES['identity'].url(settings).rstrip('/')}",
        f"export OS_USERNAME={boot.admin_username}",
        f"export OS_PASSWORD={creds.admin_password}",
        f"export OS_PROJECT_NAME={boot.admin_project}",
        "export OS_USER_DOMAIN_NAME=Default",
        "export OS_PROJECT_DOMAIN_NAME=Default",
        f"export OS_REGION_NAME={boot.region}",
        "export OS_INTERFACE=public",
        "export OS_IDENTITY_API_VERSION=3",
        "",
    ]
    path = settings.data_dir / "openrc"
    write_private(path, "\n".join(lines))
    return path
