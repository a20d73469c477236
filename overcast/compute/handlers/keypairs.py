"""``/os-keypairs``: a user's SSH (or x509) public keys, injected into the servers they boot."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Conflict, Forbidden, NotFound
from overcast.common.auth.context import RequestContext
from overcast.common.clock import isotime
from overcast.compute import keys, quotas
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_2, V2_10, V2_35
from overcast.compute.handlers.common import PREFIX, Compute, json_body, next_link, query_int
from overcast.compute.models import KeyPair

router = Router(prefix=f"{PREFIX}/os-keypairs")

CREATE = v.wrapped(
    "keypair",
    v.object_of(
        {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 255,
                "pattern": r"^[a-zA-Z0-9 _-]+$",
            },
            "public_key": {"type": "string"},
            "type": {"type": "string", "enum": ["ssh", "x509"]},
            "user_id": {"type": "string", "minLength": 1, "maxLength": 255},
        },
        required=("name",),
    ),
)


def _summary(ctx: RequestContext, pair: KeyPair) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": pair.name,
        "public_key": pair.public_key,
        "fingerprint": pair.fingerprint,
    }
    if ctx.version >= V2_2:
        view["type"] = pair.type
    return view


def _detail(ctx: RequestContext, pair: KeyPair) -> dict[str, Any]:
    view = _summary(ctx, pair)
    view.update(
        {
            "user_id": pair.user_id,
            "id": pair.id,
            "created_at": isotime(pair.created_at, subsecond=True).replace("Z", ""),
            "deleted": False,
            "deleted_at": None,
            "updated_at": None,
        }
    )
    return view


def _user_of(request: Request, ctx: RequestContext, given: str | None = None) -> str:
    """The user whose keypairs a request is about: the caller, or (2.10, admins) another."""
    wanted = given or request.query_params.get("user_id")
    if wanted and ctx.version >= V2_10:
        return wanted
    return ctx.require_auth().user_id


async def _find(session: AsyncSession, user_id: str, name: str) -> KeyPair:
    """:raises NotFound: when the user has no keypair by this name."""
    pair = await session.scalar(
        select(KeyPair).where(KeyPair.user_id == user_id, KeyPair.name == name)
    )
    if pair is None:
        raise NotFound(f"Keypair {name} not found for user {user_id}")
    return pair


@router.get("")
async def list_keypairs(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    user_id = _user_of(request, ctx)
    ctx.enforce("os_compute_api:os-keypairs:index", {"user_id": user_id})
    statement = select(KeyPair).where(KeyPair.user_id == user_id).order_by(KeyPair.name)
    paginated = ctx.version >= V2_35
    limit = query_int(request, "limit") if paginated else None
    marker = request.query_params.get("marker") if paginated else None
    async with service.db.read() as session:
        if marker is not None:
            found = await session.scalar(
                select(KeyPair.id).where(KeyPair.user_id == user_id, KeyPair.name == marker)
            )
            if found is None:
                raise BadRequest(f"Marker {marker} could not be found.")
            statement = statement.where(KeyPair.name > marker)
        if limit is not None:
            statement = statement.limit(limit)
        pairs = list(await session.scalars(statement))
    body: dict[str, Any] = {"keypairs": [{"keypair": _summary(ctx, p)} for p in pairs]}
    if limit is not None and pairs and len(pairs) == limit:
        body["keypairs_links"] = [next_link(request, "os-keypairs", pairs[-1].name)]
    return json_response(body)


@router.post("")
async def create_keypair(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    body = (await json_body(request, CREATE))["keypair"]
    v.introduced(ctx.version, body, {"type": V2_2, "user_id": V2_10})
    user_id = _user_of(request, ctx, body.get("user_id"))
    ctx.enforce("os_compute_api:os-keypairs:create", {"user_id": user_id})
    key_type = body.get("type", "ssh")
    private_key = None
    if "public_key" in body:
        public_key = body["public_key"]
        fingerprint = keys.fingerprint(public_key, key_type)
    else:
        made = await asyncio.to_thread(keys.generate, key_type, user_id)
        public_key, fingerprint, private_key = made.public_key, made.fingerprint, made.private_key
    pair = KeyPair(
        name=body["name"],
        user_id=user_id,
        fingerprint=fingerprint,
        public_key=public_key,
        type=key_type,
        created_at=service.clock.now(),
    )
    async with service.db.write() as session:
        taken = await session.scalar(
            select(KeyPair.id).where(KeyPair.user_id == user_id, KeyPair.name == pair.name)
        )
        if taken is not None:
            raise Conflict(f"Key pair '{pair.name}' already exists.")
        limits = await quotas.project_limits(
            session, service.conf.quota, ctx.project_id or "", user_id
        )
        count = await session.scalar(
            select(func.count()).select_from(KeyPair).where(KeyPair.user_id == user_id)
        )
        if quotas.exceeded(limits["key_pairs"], count or 0):
            raise Forbidden("Quota exceeded, too many key pairs.")
        session.add(pair)
    view = _summary(ctx, pair)
    view["user_id"] = user_id
    if private_key is not None:
        view["private_key"] = private_key
    return json_response({"keypair": view}, status=201 if ctx.version >= V2_2 else 200)


@router.get("/{name}")
async def show_keypair(name: str, request: Request, ctx: Context, service: Compute) -> JSONResponse:
    user_id = _user_of(request, ctx)
    ctx.enforce("os_compute_api:os-keypairs:show", {"user_id": user_id})
    async with service.db.read() as session:
        pair = await _find(session, user_id, name)
    return json_response({"keypair": _detail(ctx, pair)})


@router.delete("/{name}", status=204)
async def delete_keypair(name: str, request: Request, ctx: Context, service: Compute) -> Response:
    user_id = _user_of(request, ctx)
    ctx.enforce("os_compute_api:os-keypairs:delete", {"user_id": user_id})
    async with service.db.write() as session:
        await session.delete(await _find(session, user_id, name))
    return empty_response(204 if ctx.version >= V2_2 else 202)
