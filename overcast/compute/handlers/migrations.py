"""``/os-migrations`` (admins): every resize or migration, with its hosts and status."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request

from overcast.common.api import Context, JSONResponse, Router, json_response
from overcast.common.auth.context import RequestContext
from overcast.compute.api_versions import V2_23, V2_59
from overcast.compute.handlers.common import PREFIX, Compute, newest_first, next_link, query_int
from overcast.compute.models import Migration
from overcast.compute.servers.views import naive_time

router = Router(prefix=PREFIX)
FILTERS = ("instance_uuid", "status", "source_compute", "migration_type")
IN_PROGRESS = ("queued", "preparing", "running", "post-migrating")


def _flavor_id(stored: str | None) -> int | None:
    """The flavor's internal id, an integer as Nova shows it (None if unknown)."""
    return int(stored) if stored and stored.isdigit() else None


def _view(ctx: RequestContext, migration: Migration) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": migration.id,
        "instance_uuid": migration.instance_uuid,
        "status": migration.status,
        "source_compute": migration.source_compute,
        "source_node": migration.source_node,
        "dest_compute": migration.dest_compute,
        "dest_node": migration.dest_node,
        "dest_host": None,
        "old_instance_type_id": _flavor_id(migration.old_flavor_id),
        "new_instance_type_id": _flavor_id(migration.new_flavor_id),
        "created_at": naive_time(migration.created_at),
        "updated_at": naive_time(migration.updated_at),
    }
    if ctx.version >= V2_23:
        body["migration_type"] = migration.migration_type
    if ctx.version >= V2_59:
        body["uuid"] = migration.uuid
    return body


@router.get("/os-migrations")
async def list_migrations(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-migrations:index")
    query = select(Migration)
    for name in FILTERS:
        value = request.query_params.get(name)
        if value is not None:
            query = query.where(getattr(Migration, name) == value)
    host = request.query_params.get("host")
    if host is not None:
        query = query.where((Migration.source_compute == host) | (Migration.dest_compute == host))
    paged = ctx.version >= V2_59
    limit = query_int(request, "limit") if paged else None
    marker = request.query_params.get("marker") if paged else None
    async with service.db.read() as session:
        rows = await newest_first(
            session,
            query,
            Migration.id,
            marker=marker,
            marker_id=select(Migration.id).where(Migration.uuid == marker),
            limit=limit,
        )
    body: dict[str, Any] = {"migrations": [_view(ctx, r) for r in rows]}
    if limit is not None and rows and len(rows) == limit:
        body["migrations_links"] = [next_link(request, "os-migrations", rows[-1].uuid)]
    return json_response(body)


@router.get("/servers/{server_id}/migrations")
async def server_migrations(server_id: str, ctx: Context, service: Compute) -> JSONResponse:
    """Live migrations in progress (there are none without live migration: an empty list)."""
    ctx.enforce("os_compute_api:servers:migrations:index")
    async with service.db.read() as session:
        rows = await session.scalars(
            select(Migration).where(
                Migration.instance_uuid == server_id,
                Migration.migration_type == "live-migration",
                Migration.status.in_(IN_PROGRESS),
            )
        )
        return json_response({"migrations": [_view(ctx, r) for r in rows]})
