"""First start: disk images found in the seed directory become public images.

Each file is imported once (it is remembered by name in the image property
``overcast_seed``), as a public image of the admin project named after the file.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from sqlalchemy import select

from overcast.image import data, formats
from overcast.image.models import Image, ImageProperty
from overcast.image.service import ImageService

LOG = logging.getLogger(__name__)
SEED_PROPERTY = "overcast_seed"
SUFFIXES = (".qcow2", ".img", ".raw", ".iso")
READ_SIZE = 1 << 20


async def seed_images(service: ImageService, directory: Path, owner: str) -> list[str]:
    """Import every disk image in ``directory`` not imported before; returns the new ids."""
    created = []
    for path, found in await anyio.to_thread.run_sync(_candidates, directory):
        image_id = await _seed(service, path, found, owner)
        if image_id is not None:
            created.append(image_id)
    return created


def _candidates(directory: Path) -> list[tuple[Path, formats.Inspection]]:
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() in SUFFIXES and path.is_file():
            with path.open("rb") as f:
                head = f.read(formats.HEAD_BYTES)
            found.append((path, formats.inspect(head, b"", path.stat().st_size)))
    return found


async def _seed(
    service: ImageService, path: Path, found: formats.Inspection, owner: str
) -> str | None:
    now = service.clock.now()
    async with service.db.write() as session:
        seen = await session.scalar(
            select(ImageProperty).where(
                ImageProperty.name == SEED_PROPERTY, ImageProperty.value == path.name
            )
        )
        if seen is not None:
            return None
        image = Image(
            id=str(uuid.uuid4()),
            name=path.stem,
            status="queued",
            visibility="public",
            owner=owner,
            disk_format=found.format if found.format in service.conf.disk_formats else "raw",
            container_format="bare",
            protected=False,
            os_hidden=False,
            min_ram=0,
            min_disk=0,
            deleted=False,
            created_at=now,
            updated_at=now,
            properties=[ImageProperty(name=SEED_PROPERTY, value=path.name)],
            tags=[],
        )
        session.add(image)
        claim = data.claim_unchecked(service, image, service.default_store)
    await data.receive(service, claim, _chunks(path))
    LOG.info("imported %s as public image %s", path, image.id)
    return image.id


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        while chunk := await f.read(READ_SIZE):
            yield chunk
