"""``/v3/policies`` (opaque blobs kept for other services) and ``/v3/OS-OAUTH1/consumers``."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.ids import new_id
from overcast.identity import lookups, models, views
from overcast.identity.handlers.common import (
    Base,
    Identity,
    each,
    field_filters,
    paged_list,
    self_url,
)
from overcast.identity.schemas import (
    ConsumerCreateRequest,
    ConsumerUpdateRequest,
    PolicyCreateRequest,
    PolicyUpdateRequest,
)

router = Router()


@router.post("/v3/policies", status=201)
async def create_policy(
    body: PolicyCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:create_policy")
    spec = body.policy
    async with identity.writing() as session:
        row = models.Policy(id=new_id(), type=spec.type, blob=spec.blob, extra=spec.extras())
        session.add(row)
    return json_response({"policy": views.policy(base, row)}, status=201)


@router.read("/v3/policies")
async def list_policies(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_policies")
    clauses = field_filters(request, models.Policy, "type")
    return await paged_list(
        request, identity, models.Policy, clauses, "policies", each(lambda r: views.policy(base, r))
    )


@router.read("/v3/policies/{policy_id}")
async def get_policy(policy_id: str, ctx: Context, identity: Identity, base: Base) -> JSONResponse:
    ctx.enforce("identity:get_policy")
    async with identity.db.read() as session:
        row = await lookups.get(session, models.Policy, policy_id, "policy")
    return json_response({"policy": views.policy(base, row)})


@router.patch("/v3/policies/{policy_id}")
async def update_policy(
    policy_id: str, body: PolicyUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:update_policy")
    spec = body.policy
    async with identity.writing() as session:
        row = await lookups.get(session, models.Policy, policy_id, "policy")
        if spec.type is not None:
            row.type = spec.type
        if spec.blob is not None:
            row.blob = spec.blob
        if spec.extras():
            row.extra = {**row.extra, **spec.extras()}
    return json_response({"policy": views.policy(base, row)})


@router.delete("/v3/policies/{policy_id}", status=204)
async def delete_policy(policy_id: str, ctx: Context, identity: Identity) -> Response:
    ctx.enforce("identity:delete_policy")
    async with identity.writing() as session:
        await session.delete(await lookups.get(session, models.Policy, policy_id, "policy"))
    return empty_response()


CONSUMERS = "/v3/OS-OAUTH1/consumers"


@router.post(CONSUMERS, status=201)
async def create_consumer(
    body: ConsumerCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:create_consumer")
    secret = secrets.token_hex(16)
    spec = body.consumer
    async with identity.writing() as session:
        row = models.Consumer(
            id=new_id(),
            description=spec.description,
            encrypted_secret=identity.credential_keys.encrypt(secret.encode()).decode(),
            extra=spec.extras(),
        )
        session.add(row)
    return json_response({"consumer": {**views.consumer(base, row), "secret": secret}}, status=201)


@router.read(CONSUMERS)
async def list_consumers(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_consumers")
    async with identity.db.read() as session:
        rows = await session.scalars(select(models.Consumer).order_by(models.Consumer.id))
        items = [views.consumer(base, r) for r in rows]
    return json_response(views.collection("consumers", items, self_url(request)))


@router.read(CONSUMERS + "/{consumer_id}")
async def get_consumer(
    consumer_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:get_consumer")
    async with identity.db.read() as session:
        row = await lookups.get(session, models.Consumer, consumer_id, "consumer")
    return json_response({"consumer": views.consumer(base, row)})


@router.patch(CONSUMERS + "/{consumer_id}")
async def update_consumer(
    consumer_id: str, body: ConsumerUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:update_consumer")
    spec = body.consumer
    async with identity.writing() as session:
        row = await lookups.get(session, models.Consumer, consumer_id, "consumer")
        if "description" in spec.model_fields_set:
            row.description = spec.description
        if spec.extras():
            row.extra = {**row.extra, **spec.extras()}
    return json_response({"consumer": views.consumer(base, row)})


@router.delete(CONSUMERS + "/{consumer_id}", status=204)
async def delete_consumer(consumer_id: str, ctx: Context, identity: Identity) -> Response:
    ctx.enforce("identity:delete_consumer")
    async with identity.writing() as session:
        await session.delete(await lookups.get(session, models.Consumer, consumer_id, "consumer"))
    return empty_response()
