"""``/v2/schemas/*`` and ``/v2/info/*``: what the API accepts and what this cloud offers."""

from __future__ import annotations

from sqlalchemy import func, select

from overcast.common.api import Context, JSONResponse, Router, json_response
from overcast.common.api.errors import NotFound
from overcast.image.access import Caller
from overcast.image.handlers.common import Images
from overcast.image.models import Image

router = Router(prefix="/v2")
MIB = 1 << 20


def _schema(name: str, ctx: Context, service: Images) -> JSONResponse:
    Caller.of(ctx)
    document = service.schemas.documents.get(name)
    if document is None:
        raise NotFound(f"There is no schema named {name!r}.")
    return json_response(document)


@router.get("/schemas/{name}")
async def show_schema(name: str, ctx: Context, service: Images) -> JSONResponse:
    return _schema(name, ctx, service)


@router.get("/schemas/metadefs/{name}")
async def show_metadef_schema(name: str, ctx: Context, service: Images) -> JSONResponse:
    return _schema(f"metadefs/{name}", ctx, service)


@router.get("/info/import")
async def show_import_info(ctx: Context) -> JSONResponse:
    """The import methods this cloud offers (none: data arrives by upload)."""
    Caller.of(ctx)
    return json_response(
        {
            "import-methods": {
                "description": "Import methods available.",
                "type": "array",
                "value": [],
            }
        }
    )


@router.get("/info/stores")
async def list_stores(ctx: Context, service: Images) -> JSONResponse:
    Caller.of(ctx)
    stores = []
    for store in service.stores.values():
        entry: dict[str, object] = {"id": store.info.id, "description": store.info.description}
        if store.info.default:
            entry["default"] = True
        if store.info.read_only:
            entry["read-only"] = True
        stores.append(entry)
    return json_response({"stores": stores})


@router.get("/info/stores/detail")
async def list_stores_detail(ctx: Context, service: Images) -> JSONResponse:
    ctx.enforce("stores_info_detail", {"project_id": Caller.of(ctx).project_id})
    stores = [
        {
            "id": store.info.id,
            "type": store.info.type,
            "description": store.info.description,
            "default": store.info.default,
            "weight": 0,
            "properties": store.info.properties,
        }
        for store in service.stores.values()
    ]
    return json_response({"stores": stores})


@router.get("/info/usage")
async def show_usage(ctx: Context, service: Images) -> JSONResponse:
    """The caller's project's use of its image quotas."""
    project = Caller.of(ctx).project_id
    ctx.enforce("get_usage", {"project_id": project})
    mine = (Image.owner == project, Image.deleted.is_(False))
    async with service.db.read() as session:
        size = await session.scalar(select(func.coalesce(func.sum(Image.size), 0)).where(*mine))
        count = await session.scalar(select(func.count()).select_from(Image).where(*mine))
        uploading = await session.scalar(
            select(func.count()).select_from(Image).where(*mine, Image.status == "saving")
        )
    quota = service.quota(project)
    return json_response(
        {
            "usage": {
                "image_size_total": {
                    "limit": quota.image_size_total,
                    "usage": int(size or 0) // MIB,
                },
                "image_count_total": {"limit": quota.image_count_total, "usage": count or 0},
                "image_stage_total": {"limit": -1, "usage": 0},
                "image_count_uploading": {"limit": -1, "usage": uploading or 0},
            }
        }
    )
