"""The service catalog that tokens carry and ``/v3/auth/catalog`` returns."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.identity import models

_SUBSTITUTION = re.compile(r"[$%]\((\w+)\)s")


@dataclass(frozen=True)
class CatalogEntry:
    service: models.Service
    endpoints: tuple[models.Endpoint, ...]


async def load(session: AsyncSession) -> list[CatalogEntry]:
    """Enabled services with their enabled endpoints, in a stable order."""
    services = list(
        await session.scalars(
            select(models.Service)
            .where(models.Service.enabled.is_(True))
            .order_by(models.Service.id)
        )
    )
    endpoints = list(
        await session.scalars(
            select(models.Endpoint)
            .where(models.Endpoint.enabled.is_(True))
            .order_by(models.Endpoint.id)
        )
    )
    by_service: dict[str, list[models.Endpoint]] = {}
    for endpoint in endpoints:
        by_service.setdefault(endpoint.service_id, []).append(endpoint)
    return [CatalogEntry(s, tuple(by_service.get(s.id, ()))) for s in services]


def render(
    entries: Sequence[CatalogEntry], *, project_id: str | None, user_id: str
) -> list[dict[str, Any]]:
    """The catalog for one scope; endpoints whose URL needs a project are left out without one."""
    values = {"tenant_id": project_id, "project_id": project_id, "user_id": user_id}
    catalog = []
    for entry in entries:
        endpoints = []
        for endpoint in entry.endpoints:
            url = _substitute(endpoint.url, values)
            if url is None:
                continue
            endpoints.append(
                {
                    "id": endpoint.id,
                    "interface": endpoint.interface,
                    "region_id": endpoint.region_id,
                    "url": url,
                    "region": endpoint.region_id,
                }
            )
        catalog.append(
            {
                "endpoints": endpoints,
                "id": entry.service.id,
                "type": entry.service.type,
                "name": entry.service.extra.get("name", ""),
            }
        )
    return catalog


def _substitute(url: str, values: dict[str, str | None]) -> str | None:
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        value = values.get(match.group(1))
        if value is None:
            missing = True
            return ""
        return value

    result = _SUBSTITUTION.sub(replace, url)
    return None if missing else result
